#!/bin/sh
# A "verifier" that crashes (SIGSEGV) on bundles whose path names a flipped code page and hangs
# on resource-added ones; otherwise it rejects with codesign's wording.
case "$1" in
    *code-page-flipped*) kill -SEGV $$ ;;
    *resource-added*) sleep 30 ;;
esac
echo "$1: invalid signature (code or signature have been modified)"
exit 1
