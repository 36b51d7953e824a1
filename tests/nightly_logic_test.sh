#!/usr/bin/env bash
# Tests fuzz/nightly.sh's logic without fuzzing: crash signatures from sanitizer logs, stats
# parsing for both engines, and triage + summary end to end with a fake target whose "replay"
# prints a canned stack per input.  Usage: tests/nightly_logic_test.sh SOURCE_DIR
set -uo pipefail
src=${1:?usage: nightly_logic_test.sh SOURCE_DIR}
# shellcheck source=../fuzz/nightly.sh
source "$src/fuzz/nightly.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() { # name expected actual
  if [[ "$2" == "$3" ]]; then echo "ok   $1"; else echo "FAIL $1: expected [$2], got [$3]"; failures=$((failures + 1)); fi
}

# A stack the way ASan prints it: sanitizer and libFuzzer frames around the project's.
stack() { # file frame1 frame2 frame3 frame4 line
  cat >"$1" <<EOF
==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000031
READ of size 4 at 0x602000000031 thread T0
    #0 0x55d6119889a1 in __asan_memcpy (/b/fuzz_x+0x186921)
    #1 0x55d611a01234 in $2 /work/main/parsers/codedir.c:$6:7
    #2 0x55d611a05678 in $3 /work/main/parsers/signature.c:88:12
    #3 0x55d611a09abc in $4 /work/main/parsers/macho.c:301:5
    #4 0x55d611a0aaaa in $5 /work/main/fuzz/fuzz_x.c:20:3
    #5 0x55d611a0bbbb in LLVMFuzzerTestOneInput /work/main/fuzz/fuzz_x.c:40:3
    #6 0x55d6118e1f33 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/b/fuzz_x+0xdff33)
    #7 0x7f65a7845249 in __libc_start_call_main csu/../sysdeps/nptl/libc_start_call_main.h:58:16

0x602000000031 is located 0 bytes to the right of 1-byte region
allocated by thread T0 here:
    #0 0x55d611988000 in malloc (/b/fuzz_x+0x100000)
    #1 0x55d611a0cccc in sh_calloc /work/main/parsers/alloc.c:9:12
EOF
}

stack "$tmp/a.log" sh_codedir_parse sh_signature_parse exercise_signature fuzz_main 120
check "top three project frames" "sh_codedir_parse|sh_signature_parse|exercise_signature" \
  "$(crash_signature_from_log "$tmp/a.log")"
stack "$tmp/b.log" sh_codedir_parse sh_signature_parse exercise_signature fuzz_main 999
sed -i 's/0x55d6/0x7777/' "$tmp/b.log"
check "addresses and line numbers do not matter" "$(crash_signature_from_log "$tmp/a.log")" \
  "$(crash_signature_from_log "$tmp/b.log")"
stack "$tmp/c.log" sh_superblob_parse sh_signature_parse exercise_signature fuzz_main 1
[[ "$(crash_signature_from_log "$tmp/a.log")" != "$(crash_signature_from_log "$tmp/c.log")" ]]
check "another top frame is another crash" 0 $?

cat >"$tmp/abort.log" <<'EOF'
==13363== ERROR: libFuzzer: deadly signal
    #0 0x55d611988921 in __sanitizer_print_stack_trace (/b/fuzz_sign_verify+0x186921)
    #1 0x55d6118fb278 in fuzzer::PrintStackTrace() (/b/fuzz_sign_verify+0xf9278)
    #3 0x7f65a785a04f  (/lib/x86_64-linux-gnu/libc.so.6+0x3c04f)
    #4 0x7f65a78a8eeb in __pthread_kill_implementation nptl/./nptl/pthread_kill.c:43:17
    #5 0x7f65a7859fb1 in raise signal/../sysdeps/posix/raise.c:26:13
    #6 0x7f65a7844471 in abort stdlib/./stdlib/abort.c:79:7
    #7 0x55d6119bc14f in fail /work/main/fuzz/fuzz_sign_verify.c:128:5
    #8 0x55d6119bb9a0 in LLVMFuzzerTestOneInput /work/main/fuzz/fuzz_sign_verify.c
EOF
check "abort(): the caller is the signature" "fail" "$(crash_signature_from_log "$tmp/abort.log")"
printf 'fuzz.c:3:1: runtime error: shift exponent 40\n' >"$tmp/ubsan.log"
check "no stack: empty signature" "" "$(crash_signature_from_log "$tmp/ubsan.log")"

cat >"$tmp/plain.log" <<'EOF'
#2	INITED cov: 100 ft: 120 corp: 2/10b exec/s: 0 rss: 30Mb
#4096	pulse  cov: 1564 ft: 4436 corp: 140/2921b lim: 35 exec/s: 75 rss: 464Mb
#5000	NEW    cov: 1570 ft: 4500 corp: 141/2950b lim: 35 exec/s: 77 rss: 464Mb
Done 5000 runs in 65 second(s)
stat::number_of_executed_units: 5000
stat::average_exec_per_sec:     76
EOF
check "libFuzzer plain stats" "76 1570 4500" "$(libfuzzer_stats "$tmp/plain.log")"
cat >"$tmp/fork.log" <<'EOF'
INFO: -fork=2: fuzzing in separate process(s)
#1000: cov: 900 ft: 1500 corp: 60 exec/s 400 oom/timeout/crash: 0/0/0 time: 4s job: 1 dft_time: 0
#3000: cov: 950 ft: 1600 corp: 64 exec/s 500 oom/timeout/crash: 0/0/1 time: 9s job: 2 dft_time: 0
INFO: exiting: 0 time: 11s
EOF
check "libFuzzer -fork stats" "500 950 1600" "$(libfuzzer_stats "$tmp/fork.log")"
mkdir -p "$tmp/afl/m0" "$tmp/afl/s1"
printf 'execs_per_sec     : 1200.50\nedges_found       : 800\ncorpus_count      : 90\n' >"$tmp/afl/m0/fuzzer_stats"
printf 'execs_per_sec     : 1000.25\nedges_found       : 810\ncorpus_count      : 85\n' >"$tmp/afl/s1/fuzzer_stats"
check "AFL++ stats: exec/s summed, edges and corpus maxed" "2200 810 90" \
  "$(afl_stats "$tmp"/afl/*/fuzzer_stats)"

# End to end: a fake target whose binary prints stack a for inputs starting with 'A', c for 'C'.
repo="$tmp/repo" workdir="$tmp/work" build_dir="$tmp/build" engine=libfuzzer structured=0
regressions=1 minutes=1 jobs=1 target_list=(fuzz_fake)
mkdir -p "$repo/corpus/regressions/fuzz_fake" "$workdir/fuzz_fake/artifacts" \
  "$workdir/fuzz_fake/minimised" "$build_dir/fuzz"
cat >"$build_dir/fuzz/fuzz_fake" <<EOF
#!/usr/bin/env bash
case "\$(head -c1 "\$1")" in A) cat "$tmp/a.log" ;; C) cat "$tmp/c.log" ;; esac
EOF
chmod +x "$build_dir/fuzz/fuzz_fake"
printf 'A1' >"$workdir/fuzz_fake/artifacts/crash-1"
printf 'A2' >"$workdir/fuzz_fake/artifacts/crash-2"   # same stack as crash-1
printf 'C1' >"$workdir/fuzz_fake/artifacts/crash-3"
printf 'x' >"$workdir/fuzz_fake/minimised/one"
cp "$tmp/plain.log" "$workdir/fuzz_fake/log"
# crash-3's stack is already filed as a regression: not new.
c_id=$(signature_id "$(crash_signature_from_log "$tmp/c.log")")
printf 'C0' >"$repo/corpus/regressions/fuzz_fake/crash-$c_id"
declare -A new_crashes=() total_crashes=()
new_signatures=()
triage_crashes fuzz_fake >"$tmp/triage.out"
check "three artifacts seen" 3 "${total_crashes[fuzz_fake]}"
check "one new crash (duplicate and committed ones are not new)" 1 "${new_crashes[fuzz_fake]}"
a_id=$(signature_id "sh_codedir_parse|sh_signature_parse|exercise_signature")
check "reproducer filed under its signature" A1 "$(cat "$repo/corpus/regressions/fuzz_fake/crash-$a_id" 2>/dev/null)"
triage_crashes fuzz_fake >"$tmp/triage2.out"
check "a second night does not report it again" 0 "${new_crashes[fuzz_fake]}"
new_crashes[fuzz_fake]=1 total_crashes[fuzz_fake]=3
summarise >"$tmp/summary.out"
grep -q '^fuzz_fake  *76  *1570  *4500  *1  *3  *1$' "$tmp/summary.out"
check "summary table row" 0 $?
grep -qF '"targets":[{"name":"fuzz_fake","execs_per_sec":76,"edges":1570,"features":4500,"corpus_files":1,"crashes":3,"new_crashes":1}]' "$workdir/summary.json"
check "summary JSON row" 0 $?
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$workdir/summary.json"
  check "summary JSON parses" 0 $?
fi

[[ $failures == 0 ]] && echo "all nightly logic checks passed"
exit $((failures > 0))
