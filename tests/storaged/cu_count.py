#!/usr/bin/env python3
"""Count what iscsi-test-cu (libiscsi's conformance suite) really did.

CUnit's own summary counts a test as passed when it skipped because the
target does not implement a command: libiscsi's tests then log a
"[SKIPPED] ... is not implemented." line and call CU_PASS. This script reads
the output of `iscsi-test-cu -V ...` (CUnit's default verbose mode, plus
libiscsi's -V which logs every SCSI command the test sends and an "[OK]"
line for each answer that was what the test expected) and puts every test in
one of four classes:

  passed        CUnit passed it and it logged no skip
  failed        CUnit failed it (or a suite's initialisation or cleanup failed)
  skipped-part  CUnit passed it, it logged a skip, and at least one command
                of the test got the answer it expected ("[OK]"/"[SUCCESS]"):
                part of the test ran, part was skipped
  skipped-whole CUnit passed it, it logged a skip, and no command of the test
                got a checked answer: nothing of the test ran

A skip is a line holding "[SKIPPED]" or "[SKIPPING]" inside the test's own
output. Lines between one test's result and the next test (suite set-up and
clean-up) belong to no test.

The counts are checked against CUnit's "Run Summary" (tests ran, failed);
a log without one, or one that disagrees, is an error (exit 2): an
incomplete or misread log never passes for a clean run.

Usage:
  cu_count.py LOG             prints "RUN PASSED FAILED SKIP_PART SKIP_WHOLE"
  cu_count.py --tests LOG     one line per test: NAME CLASS [first skip reason]
  cu_count.py --self-check    counts the recorded sample in data/ and
                              compares with the figures known for it
"""
import os
import re
import sys

TEST_RE = re.compile(r"^  Test: (.*?) \.\.\.(.*)$")
SUITE_RE = re.compile(r"^Suite: (.*)$")
SUITE_FAIL_RE = re.compile(r"^WARNING - Suite (initialization|cleanup) failed for '(.*)'")
SUMMARY_RE = re.compile(r"^\s+tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
SKIP_RE = re.compile(r"\[SKIPP(?:ED|ING)\]\s*(.*)")
OK_RE = re.compile(r"^\s*\[(?:OK|SUCCESS)\]")

# Recorded sample (data/cu-sample.log) and what it must count to.
SAMPLE = "data/cu-sample.log"
SAMPLE_COUNTS = (10, 5, 2, 2, 2)
SAMPLE_CLASSES = {
    "CompareAndWrite.Simple": "passed",
    "CompareAndWrite.DpoFua": "skipped-part",
    "CompareAndWrite.Miscompare": "passed",
    "OrWrite.Simple": "skipped-whole",
    "OrWrite.DpoFua": "skipped-part",
    "Inquiry(init)": "failed",
    "PreventAllow.Simple": "skipped-whole",
    "ReadCapacity16.Simple": "passed",
    "iSCSIdatasn.iSCSIDataSnInvalid": "passed",
    "iSCSITMF.LUNResetSimpleAsync": "passed",
    "MultipathIO.Reset": "failed",
}


class LogError(Exception):
    pass


def classify(lines):
    """Returns (list of (name, class, reason), summary (total, ran, failed))."""
    tests = []
    suite = "?"
    cur = None  # [name, skips, oks, reason]
    summary = None

    def finish(result):
        name, skips, oks, reason = cur
        if result == "FAILED":
            cls = "failed"
        elif skips == 0:
            cls = "passed"
        elif oks > 0:
            cls = "skipped-part"
        else:
            cls = "skipped-whole"
        tests.append((name, cls, reason if skips else ""))

    def body(text):
        # Output of the running test (or, with none running, of a suite's
        # set-up or clean-up, which counts for no test).
        if cur is None:
            return
        m = SKIP_RE.search(text)
        if m:
            cur[1] += 1
            if not cur[3]:
                cur[3] = m.group(1).strip()
        elif OK_RE.search(text):
            cur[2] += 1

    for raw in lines:
        line = raw.rstrip("\n")
        m = TEST_RE.match(line)
        if m:
            if cur is not None:
                raise LogError("test %s has no result before the next test" % cur[0])
            cur = ["%s.%s" % (suite, m.group(1)), 0, 0, ""]
            line = m.group(2)
            if not line.startswith(("passed", "FAILED")):
                body(line)
                continue
        m = SUITE_RE.match(line)
        if m:
            suite = m.group(1)
            continue
        m = SUITE_FAIL_RE.match(line)
        if m:
            kind = "init" if m.group(1) == "initialization" else "cleanup"
            tests.append(("%s(%s)" % (m.group(2), kind), "failed", "suite %s failed" % kind))
            continue
        m = SUMMARY_RE.match(line)
        if m:
            summary = tuple(int(x) for x in m.groups())
            continue
        if cur is not None:
            # CUnit writes the result at the start of a line (test output
            # is indented), followed by whatever the suite prints next.
            for result in ("passed", "FAILED"):
                if line.startswith(result):
                    finish(result)
                    cur = None
                    break
            else:
                body(line)
    if cur is not None:
        raise LogError("test %s never finished (the run was cut short)" % cur[0])
    if summary is None:
        raise LogError("no CUnit Run Summary (the run was cut short)")
    return tests, summary


def count(path):
    with open(path, errors="replace") as f:
        return count_lines(f, path)


def count_lines(lines, what):
    """Returns ((RUN, PASSED, FAILED, SKIP_PART, SKIP_WHOLE), tests)."""
    tests, (total, ran, passed, failed, inactive) = classify(lines)
    per = {c: 0 for c in ("passed", "failed", "skipped-part", "skipped-whole")}
    for _, cls, _ in tests:
        per[cls] += 1
    suite_level = ("(init)", "(cleanup)")
    run = sum(1 for name, _, _ in tests if not name.endswith(suite_level))
    test_failed = sum(
        1 for name, cls, _ in tests if cls == "failed" and not name.endswith(suite_level)
    )
    if run != ran or test_failed != failed:
        raise LogError(
            "%s: counted %d run / %d failed but CUnit says %d / %d"
            % (what, run, test_failed, ran, failed)
        )
    counts = (run, per["passed"], per["failed"], per["skipped-part"], per["skipped-whole"])
    return counts, tests


def self_check():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, SAMPLE)) as f:
        sample = f.read().splitlines(True)
    counts, tests = count_lines(sample, SAMPLE)
    ok = counts == SAMPLE_COUNTS
    got = {name: cls for name, cls, _ in tests}
    for name in sorted(set(got) | set(SAMPLE_CLASSES)):
        if got.get(name) != SAMPLE_CLASSES.get(name):
            ok = False
            print("  %s: got %s, expected %s" % (name, got.get(name), SAMPLE_CLASSES.get(name)))
    # A run cut short in a test, a log without its Run Summary, and a
    # summary that disagrees with the tests seen are errors, never counts.
    cut = next(i for i, l in enumerate(sample) if "Test: Reset" in l) + 3
    broken = {
        "cut short in a test": sample[:cut],
        "no Run Summary": [l for l in sample if not SUMMARY_RE.match(l)],
        "summary disagrees": [l.replace("  9      1", " 10      0") for l in sample],
    }
    for what, lines in broken.items():
        try:
            count_lines(lines, what)
            ok = False
            print("  %s: counted, expected an error" % what)
        except LogError:
            pass
    print(
        "self-check: %s counts %s (expected %s), broken logs refused: %s"
        % (SAMPLE, " ".join(map(str, counts)), " ".join(map(str, SAMPLE_COUNTS)),
           "ok" if ok else "WRONG")
    )
    return 0 if ok else 1


def main(argv):
    try:
        if argv[1:] == ["--self-check"]:
            return self_check()
        if len(argv) == 3 and argv[1] == "--tests":
            for name, cls, reason in count(argv[2])[1]:
                print(("%s %s %s" % (name, cls, reason)).rstrip())
            return 0
        if len(argv) == 2 and not argv[1].startswith("-"):
            print(" ".join(map(str, count(argv[1])[0])))
            return 0
    except (LogError, OSError) as e:
        print("cu_count: %s" % e, file=sys.stderr)
        return 2
    print(__doc__.split("Usage:")[1].rstrip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
