# Included by test/CMakeLists.txt in a GVX_SANITIZE build.
#
# gvx.so is built with AddressSanitizer, whose runtime must come first in any process that
# loads it; the system sqlite3 shell is not instrumented. So this build gets a `sqlite3`
# wrapper that preloads the runtime (test/hardening/sqlite3-asan.in), and every test sees it:
# as ${SQLITE3_CLI}, and first on PATH (set by a file ctest reads before running any test,
# so scripts that run plain `sqlite3`, such as scripts/gvx-cleanup, get it too).
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libasan.so
                OUTPUT_VARIABLE GVX_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT IS_ABSOLUTE "${GVX_LIBASAN}" OR NOT EXISTS "${GVX_LIBASAN}")
    message(FATAL_ERROR "GVX_SANITIZE: cannot find libasan.so (${CMAKE_CXX_COMPILER} says '${GVX_LIBASAN}')")
endif()
set(GVX_SQLITE3 ${SQLITE3_CLI})
set(GVX_SANITIZE_BIN ${CMAKE_CURRENT_BINARY_DIR}/sanitize-bin)
configure_file(${CMAKE_CURRENT_LIST_DIR}/sqlite3-asan.in ${GVX_SANITIZE_BIN}/sqlite3 @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                WORLD_READ WORLD_EXECUTE)
set(SQLITE3_CLI ${GVX_SANITIZE_BIN}/sqlite3)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/sanitize-env.cmake
     "set(ENV{PATH} \"${GVX_SANITIZE_BIN}:\$ENV{PATH}\")\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
             ${CMAKE_CURRENT_BINARY_DIR}/sanitize-env.cmake)
