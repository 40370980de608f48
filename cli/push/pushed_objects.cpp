#include "push/pushed_objects.hpp"

#include <atomic>
#include <charconv>
#include <optional>
#include <thread>

namespace gvx::push {
namespace {

constexpr const char* kObjectFormat = "%(objectname) %(objecttype) %(objectsize) %(rest)";

// "<id> <type> <size> <rest>", as both cat-file modes print it with kObjectFormat.
struct ObjectLine {
    std::string id;
    std::string type;
    std::uint64_t size = 0;
    std::string rest;
};

std::optional<ObjectLine> parse_object_line(std::string_view line) {
    ObjectLine o;
    const std::size_t a = line.find(' ');
    if (a == std::string_view::npos) return std::nullopt;  // "<id> missing" has one space
    const std::size_t b = line.find(' ', a + 1);
    if (b == std::string_view::npos) return std::nullopt;
    std::size_t c = line.find(' ', b + 1);
    if (c == std::string_view::npos) c = line.size();
    o.id = std::string(line.substr(0, a));
    o.type = std::string(line.substr(a + 1, b - a - 1));
    const std::string_view size = line.substr(b + 1, c - b - 1);
    if (std::from_chars(size.data(), size.data() + size.size(), o.size).ec != std::errc{})
        return std::nullopt;
    if (c < line.size()) o.rest = std::string(line.substr(c + 1));
    return o;
}

bool holds_text(std::string_view type) {
    return type == "blob" || type == "commit" || type == "tag";
}

// Reads batch-check's lines and asks cat-file --batch for the objects worth scanning. Runs on
// its own thread so that neither git process ever waits on a full pipe.
struct Selector {
    int from_check;
    Fd to_batch;
    std::uint64_t max_bytes;
    Clock::time_point deadline;
    std::uint64_t objects = 0;
    std::uint64_t skipped_large = 0;
    std::optional<Error> error;

    void run() {
        Reader in(from_check, deadline);
        std::string line;
        std::string request;
        for (;;) {
            auto more = in.read_line(line);
            if (!more) {
                error = std::move(more).error();
                break;
            }
            if (!*more) break;
            ++objects;
            auto o = parse_object_line(line);
            if (!o) {
                error = Error{Errc::db, "unexpected output from git cat-file --batch-check"};
                break;
            }
            if (!holds_text(o->type)) continue;
            if (o->size > max_bytes) {
                ++skipped_large;
                continue;
            }
            request.assign(o->id).append(" ").append(o->rest).append("\n");
            if (!write_all(to_batch.get(), request)) break;  // cat-file ended: main reports it
        }
        to_batch.close();  // cat-file --batch ends when its input does
    }
};

}  // namespace

Result<PushScan> scan_pushed_objects(const std::vector<std::string>& tips,
                                     std::uint64_t max_bytes, Clock::time_point deadline) {
    PushScan result;
    if (tips.empty()) return result;
    auto tips_pipe = make_pipe();
    auto listed = make_pipe();
    auto checked = make_pipe();
    auto wanted = make_pipe();
    auto contents = make_pipe();
    for (auto* p : {&tips_pipe, &listed, &checked, &wanted, &contents})
        if (!*p) return std::move(*p).error();

    const std::string batch_check = std::string("--batch-check=") + kObjectFormat;
    const std::string batch = std::string("--batch=") + kObjectFormat;
    auto rev_list = Child::spawn({"git", "rev-list", "--objects", "--stdin", "--not", "--all"},
                                 tips_pipe->read.get(), listed->write.get());
    if (!rev_list) return std::move(rev_list).error();
    auto check = Child::spawn({"git", "cat-file", batch_check}, listed->read.get(),
                              checked->write.get());
    if (!check) return std::move(check).error();
    auto cat = Child::spawn({"git", "cat-file", batch}, wanted->read.get(),
                            contents->write.get());
    if (!cat) return std::move(cat).error();
    // Only the children hold these ends now, so each pipe ends when its writer does.
    tips_pipe->read.close();
    listed->write.close();
    listed->read.close();
    checked->write.close();
    wanted->read.close();
    contents->write.close();
    std::string tip_lines;
    for (const std::string& t : tips) tip_lines.append(t).append("\n");
    const bool tips_sent = write_all(tips_pipe->write.get(), tip_lines);
    tips_pipe->write.close();

    Selector selector{checked->read.get(), std::move(wanted->write), max_bytes, deadline};
    std::thread selecting([&] { selector.run(); });

    std::optional<Error> failure;
    {
        Reader in(contents->read.get(), deadline);
        ContentScan content;
        std::string header;
        std::vector<Sighting> found;
        char newline = 0;
        for (;;) {
            auto more = in.read_line(header);
            if (!more) {
                failure = std::move(more).error();
                break;
            }
            if (!*more) break;
            auto o = parse_object_line(header);
            if (!o) {
                failure = Error{Errc::db, "git cat-file cannot read an object of the push"};
                break;
            }
            content.begin(o->size, max_bytes);
            if (auto st = in.read_exact(o->size, [&](std::string_view b) { content.feed(b); });
                !st) {
                failure = std::move(st).error();
                break;
            }
            if (auto st = in.read_exact(1, [&](std::string_view b) { newline = b[0]; }); !st) {
                failure = std::move(st).error();
                break;
            }
            ++result.scanned;
            found.clear();
            if (content.end(found) == Skipped::binary) ++result.skipped_binary;
            for (Sighting& s : found)
                result.sightings.push_back(ObjectSighting{o->id, o->type, o->rest, std::move(s)});
        }
        result.bytes = content.bytes_scanned();
        (void)newline;
    }
    if (failure) {
        // Ends every git process, which ends the selector's reads and writes too.
        rev_list->kill();
        check->kill();
        cat->kill();
    }
    selecting.join();
    if (failure) return std::move(*failure);
    if (selector.error) return std::move(*selector.error);
    for (Child* c : {&*rev_list, &*check, &*cat}) {
        if (auto st = c->wait(); !st) return std::move(st).error();
    }
    if (!tips_sent) return Error{Errc::db, "git rev-list did not read the pushed refs"};
    result.objects = selector.objects;
    result.skipped_large = selector.skipped_large;
    return result;
}

std::string introducing_commit(const std::vector<std::string>& tips, const ObjectSighting& s,
                               Clock::time_point deadline) {
    if (s.type == "commit") return s.object;
    if (s.type != "blob") return "";
    auto in = make_pipe();
    auto out = make_pipe();
    if (!in || !out) return "";
    auto log = Child::spawn({"git", "log", "--format=%H", "--reverse", "--stdin",
                             "--find-object=" + s.object, "--not", "--all"},
                            in->read.get(), out->write.get());
    if (!log) return "";
    in->read.close();
    out->write.close();
    std::string tip_lines;
    for (const std::string& t : tips) tip_lines.append(t).append("\n");
    write_all(in->write.get(), tip_lines);
    in->write.close();
    Reader reader(out->read.get(), deadline);
    std::string first;
    auto got = reader.read_line(first);
    if (!got || !*got) first.clear();
    log->kill();  // the rest of the list is not needed
    return first;
}

}  // namespace gvx::push
