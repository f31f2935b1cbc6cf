# Fails if DOC differs from the output of `THERASIM params` (regenerate with tools/update-docs.sh).
execute_process(COMMAND ${THERASIM} params OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "therasim params failed")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "${DOC} is out of date: run tools/update-docs.sh")
endif()
