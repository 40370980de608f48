// Errors shown next to the field they concern (aria-invalid + the field's error element).

export function showFieldError(input, errorElement, message) {
  errorElement.textContent = message;
  errorElement.hidden = false;
  if (input) input.setAttribute("aria-invalid", "true");
}

export function clearFieldError(input, errorElement) {
  errorElement.textContent = "";
  errorElement.hidden = true;
  if (input) input.removeAttribute("aria-invalid");
}

// Which field an API message names: gvx-fcgi's messages start with the JSON field's name
// ("name must be 3 to 50 characters (got 2)", "expiresAt must be in the future ...").
export function fieldOfMessage(message) {
  if (/^name\b/.test(message)) return "name";
  if (/\bexpires(At|In)\b/.test(message)) return "expiration";
  if (/\bpermissions?\b|\brepo(:|\b)/.test(message)) return "permissions";
  return null;
}
