#!/usr/bin/env bash
# Run the C extractor's tests with AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Builds bbnb/results/_speedups.c with -fsanitize=address,undefined into a copy of the
# package (the installed build is left alone), then runs the tests that drive the
# extension hardest against that copy.  Any out-of-bounds access, use after free or
# undefined behaviour aborts the run.  Usage: bash scripts/check_native_asan.sh
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r bbnb "$work/bbnb"
find "$work/bbnb" -name '_speedups*.so' -delete
suffix=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
gcc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -fPIC -shared -I"$include" \
  bbnb/results/_speedups.c -o "$work/bbnb/results/_speedups$suffix"

preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
# An editable install's import hook would find the project's own bbnb first: drop it,
# and put the sanitized copy first on the path.
# pytest captures stderr, so the sanitizers write their reports to files, shown below.
export ASAN_OPTIONS="detect_leaks=0:log_path=$work/report"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$work/report"
status=0
SANITIZED="$work" LD_PRELOAD="$preload" PYTHONMALLOC=malloc \
  "$python" - "$@" <<'PY' || status=$?
import os
import sys

work = os.environ["SANITIZED"]
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path.insert(0, work)
import bbnb.results._native as native  # noqa: E402

assert native.module is not None, "the sanitized build did not import"
assert native.module.__file__.startswith(work), native.module.__file__
print("sanitized extension:", native.module.__file__)
import pytest  # noqa: E402

tests = ["tests/results/test_native.py", "tests/results/test_typed_path.py"]
tests.append("tests/results/test_properties.py")
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *tests, *sys.argv[1:]]))
PY
if compgen -G "$work/report*" >/dev/null; then
  cat "$work"/report* >&2
  echo "sanitizers: errors reported (above)" >&2
  exit 1
fi
if ((status)); then
  exit "$status"
fi
echo "sanitizers: clean"
