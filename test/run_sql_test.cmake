cmake_minimum_required(VERSION 3.25)
# Runs SQL through the sqlite3 shell with gvx.so loaded, in a fresh directory (so the test may
# create database files), and compares stdout+stderr with EXPECTED. @FIXTURES@ in the SQL is
# replaced by the fixtures directory. Lines of the form `Parse error ...`/`Runtime error ...`
# are the shell's error reports, so expected files also pin every error message.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
file(READ ${SQL} script)
string(REPLACE "@FIXTURES@" "${FIXTURES}" script "${script}")
get_filename_component(ext_base ${EXT} NAME_WE)
get_filename_component(ext_parent ${EXT} DIRECTORY)
string(REPLACE "@EXT@" "${ext_parent}/${ext_base}" script "${script}")
file(WRITE ${WORK}/test.sql "${script}")
get_filename_component(ext_noext ${EXT} NAME_WE)
get_filename_component(ext_dir ${EXT} DIRECTORY)
execute_process(
    COMMAND stdbuf -o0 -e0 ${SQLITE3} -batch -cmd ".load ${ext_dir}/${ext_noext}" :memory:
    INPUT_FILE ${WORK}/test.sql
    WORKING_DIRECTORY ${WORK}
    OUTPUT_VARIABLE out ERROR_VARIABLE out
    RESULT_VARIABLE rc)
file(WRITE ${WORK}/actual.txt "${out}")
if(NOT EXISTS ${EXPECTED})
    message(FATAL_ERROR "missing ${EXPECTED} (actual output: ${WORK}/actual.txt)")
endif()
file(READ ${EXPECTED} expected)
if(NOT out STREQUAL expected)
    execute_process(COMMAND diff -u ${EXPECTED} ${WORK}/actual.txt)
    message(FATAL_ERROR "output differs from ${EXPECTED} (actual: ${WORK}/actual.txt)")
endif()
