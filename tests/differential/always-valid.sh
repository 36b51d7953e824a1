#!/bin/sh
# A deliberately wrong "verifier" for the differential tests: it accepts everything.
echo "$1: valid on disk"
echo "$1: satisfies its Designated Requirement"
exit 0
