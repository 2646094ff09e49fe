# cmake -DIN=conf/ferry.yaml -DOUT=... -P packaged_config.cmake: writes the config a package installs as
# /etc/ferry/ferry.yaml. It is IN with every line from the top-level `flows:` on commented out ("# " before
# each, so removing a line's first two characters brings it back), under a note saying what to do.
file(READ ${IN} text)
string(FIND "${text}" "\nflows:" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${IN}: no top-level 'flows:' line to comment out")
endif()
math(EXPR at "${at} + 1")
string(SUBSTRING "${text}" 0 ${at} head)
string(SUBSTRING "${text}" ${at} -1 flows)
string(REGEX REPLACE "\n$" "" flows "${flows}")
string(REPLACE "\n" "\n# " flows "# ${flows}")
string(REGEX REPLACE "# \n" "#\n" flows "${flows}\n")
file(WRITE ${OUT} "${head}"
     "# No flow yet: ferry ships nothing until one is written, and refuses to start without one\n"
     "# (`ferry check` says \"flows: missing required key\"). The package enabled ferry.service but did\n"
     "# not start it. Write a flow (uncomment the one below and edit it, or copy one from\n"
     "# /usr/share/doc/ferry/examples), then: ferry check -c /etc/ferry/ferry.yaml && systemctl start ferry\n"
     "${flows}")
