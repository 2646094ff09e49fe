#!/bin/sh
# A pass-through transformation function in sed, for the unit tests of plugins/lambda with short timeouts:
# it starts at once, where python3 may take a second on a loaded machine. The event line becomes the answer
# by two substitutions (every record Ok with its own data); sed -u reads a byte at a time, so this is for
# small tests only. $1: "hang" hangs; "hang_once" hangs in the first process of all (the file
# FERRY_TEST_COUNTER marks that it ran); "slow_start" takes 400 ms to start, then passes through;
# anything else passes through.
case "$1" in
hang) exec sleep 600 ;;
slow_start) sleep 0.4 ;;
hang_once)
  if [ ! -e "$FERRY_TEST_COUNTER" ]; then
    : >"$FERRY_TEST_COUNTER"
    exec sleep 600
  fi
  ;;
esac
exec sed -u -e 's/^.*"records":\[/{"records":[/' -e 's/"approximateArrivalTimestamp":[-0-9]*,/"result":"Ok",/g'
