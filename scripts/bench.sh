#!/usr/bin/env bash
# Performance and robustness figures, measured on this machine and written to docs/performance.md.
# One command: builds in release, then runs the tax-engine benchmark (criterion), the tax endpoint over
# loopback HTTP at concurrency 1/16/64 plus a memory soak, the sync benchmarks, the exposure and filing reports
# over a million invoices, binary sizes, the cold start of the tax function (its init log line, with AWS in
# moto) and the cold start of the local server. Takes several minutes; not part of scripts/test.sh. Also refreshes
# docs/console.png (the console's browser test with SCREENSHOT=docs/console.png) when Node, Chromium and
# tests/browser's playwright-core are there; scripts/test.sh never writes it.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_LEVEL="${SECONDS_PER_LEVEL:-10}"
SOAK_SECONDS="${SOAK_SECONDS:-60}"
SYNC_INVOICES="${SYNC_INVOICES:-10000}"
out=docs/performance.md
mkdir -p docs target
echo "==> release build"
cargo build --release -p sphere-local --quiet

bin=target/release/sphere-local
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "==> docs/console.png (the console's browser test against the release build)"
if command -v node >/dev/null && [ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]; then
  [ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
  SPHERE_LOCAL_BIN="$bin" SCREENSHOT=docs/console.png node tests/browser/console.test.mjs >"$tmp/console.txt" 2>&1 \
    || { cat "$tmp/console.txt"; exit 1; }
  grep -E "^console: " "$tmp/console.txt"
else
  echo "    not refreshed: needs node and ${CHROMIUM_BIN:-/usr/bin/chromium} (see scripts/test.sh)"
fi

echo "==> tax engine (criterion)"
cargo bench -p shared --bench tax_engine -- --noplot >"$tmp/engine.txt" 2>&1 || { cat "$tmp/engine.txt"; exit 1; }

echo "==> instructions per calculation (valgrind's callgrind, when installed)"
instr=""
if command -v valgrind >/dev/null; then
  exe=$(cargo bench -p shared --bench tax_engine --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json, sys
exes = [j["executable"] for j in map(json.loads, sys.stdin) if j.get("reason") == "compiler-artifact" and j.get("executable")]
print(exes[-1])')
  # Instructions of a whole run of n calculations; two runs' difference over their difference in n is one
  # calculation, start-up and loading cancelled out.
  ir() { ENGINE_CALLS="$1:$2" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" 2>&1 | awk '/Collected :/ {print $NF}'; }
  for case in calculate_nyc_1_lines:1000 calculate_mn_sst_1_line:1000 calculate_tx_county_city_1_line:1000 calculate_nyc_100_lines:50; do
    name=${case%%:*}; n=${case##*:}
    a=$(ir "$name" "$n"); b=$(ir "$name" $((2 * n)))
    instr+="| \`$name\` | $(( (b - a) / n )) |"$'\n'
  done
fi

echo "==> tax endpoint over loopback HTTP"
"$bin" bench-tax --seconds "$SECONDS_PER_LEVEL" --soak-seconds "$SOAK_SECONDS" >"$tmp/tax.txt"

echo "==> sync"
"$bin" bench-sync --invoices "$SYNC_INVOICES" >"$tmp/sync.txt"

echo "==> exposure and filing reports over ${EXPOSURE_INVOICES:-1000000} invoices (embedded store)"
"$bin" bench-exposure --invoices "${EXPOSURE_INVOICES:-1000000}" >"$tmp/exposure.txt"

echo "==> webhook-to-ledger latency (local server, simulator over loopback)"
"$bin" bench-webhooks --changes "${WEBHOOK_CHANGES:-50}" >"$tmp/webhooks.txt"

echo "==> long fault soak (SOAK_ROUNDS=${LONG_SOAK_ROUNDS:-300})"
soak_start=$(date +%s)
SOAK_ROUNDS="${LONG_SOAK_ROUNDS:-300}" cargo test --release -q -p e2e-tests --test soak >"$tmp/soak.txt" 2>&1 || { cat "$tmp/soak.txt"; exit 1; }
soak_secs=$(( $(date +%s) - soak_start ))

echo "==> cold start of the local server (process start → first /healthz answer)"
cold=$(python3 - "$bin" <<'PY'
import os, socket, subprocess, sys, tempfile, time, urllib.request
bin = sys.argv[1]
runs = []
for _ in range(5):
    d = tempfile.mkdtemp()
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    t = time.perf_counter()
    p = subprocess.Popen([bin, "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read(); break
        except Exception:
            if time.perf_counter() - t > 10: break
            time.sleep(0.002)
    runs.append((time.perf_counter() - t) * 1000)
    p.kill(); p.wait()
runs.sort()
print(f"median {runs[len(runs)//2]:.1f} ms (min {runs[0]:.1f}, max {runs[-1]:.1f}) over {len(runs)} starts")
PY
)

echo "==> the tax function's cold start (release binary, AWS in moto from .venv, no Lambda runtime: it exits after init)"
if [ -x .venv/bin/moto_server ] && command -v zip >/dev/null && [ -x /usr/bin/time ]; then
  cargo build --release -p tax --quiet
  tax_init=$(.venv/bin/python scripts/bench_tax_init.py target/release/tax "$tmp")
else
  tax_init="| not measured: needs .venv (run scripts/test.sh once), zip and /usr/bin/time | | |"
fi

sizes=""
for f in connect sync tax webhook; do
  if [ -f "target/lambda/$f/bootstrap" ]; then
    sizes+="| $f (arm64, cargo lambda build --release --arm64) | $(du -h "target/lambda/$f/bootstrap" | cut -f1) |"$'\n'
  fi
done
sizes+="| sphere-local (x86_64 release) | $(du -h "$bin" | cut -f1) |"$'\n'

{
  echo "# Performance"
  echo
  echo "Measured by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d) — $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"
  echo "$(uname -sm), $(rustc --version). The load generator runs on the same machine as the server."
  echo
  echo "## Tax engine (in-process, criterion)"
  echo
  echo '```'
  grep -E "^cpu-time|time:|^tax_engine|^cold|^engine" "$tmp/engine.txt" || true
  echo '```'
  echo
  echo "The unnamed row after \`calculate_mn_sst_1_line\` is \`calculate_tx_county_city_1_line\` (criterion prints a long"
  echo "name on its own line). This shared 2-core VM's speed varies by up to 2× between minutes, on-CPU time included;"
  echo "instructions per calculation do not vary with it, so changes to the engine are compared by them:"
  echo
  if [ -n "$instr" ]; then
    echo "| calculation | instructions (callgrind) |"
    echo "|---|---:|"
    printf "%s" "$instr"
  else
    echo "(not measured: valgrind is not installed)"
  fi
  echo
  echo "Counted the same way (each calculation and the drop of its result), before 375c174 and 2324606 (issue 15's"
  echo "engine changes of 2026-11-27): NYC 1 line 34,087, MN 29,425, Texas 41,210, NYC 100 lines 1,142,350 instructions,"
  echo "a third of the time in the allocator: the address, every registration and every jurisdiction's name were copied"
  echo "on each call, and the tables hashed with SipHash. Alternating runs of both binaries, on CPU: NYC 1 line"
  echo "4.28–6.58 → 2.18–3.79 µs, MN 3.30–4.06 → 1.56–1.78 µs, Texas 4.62–5.46 → 2.86–3.28 µs."
  echo
  echo "## The tax function's cold start"
  echo
  echo "The release \`tax\` binary started as Lambda starts it, against DynamoDB and Secrets Manager in moto on"
  echo "loopback (no TLS, no network: on AWS the pepper and warm-up reads take longer, and the content load overlaps"
  echo "them), with no Lambda Runtime API to answer, so it exits right after init (\`scripts/bench_tax_init.py\`)."
  echo
  echo "| what | measured | target |"
  echo "|---|---:|---|"
  echo "$tax_init"
  echo
  echo "Before issue 15's local rates (commit 936aa03, measured by hand on 2026-11-26): engine cold load 10.8 ms"
  echo "(criterion), \`tax\` binary 17.5 MB, zipped 6.6 MB, peak RSS through init 55 MB. The embedded CSV went"
  echo "from 1.04 MB to 2.17 MB with the county / city tables. Until 2026-11-27 the init line was logged before the"
  echo "content was loaded, so the 21.6 ms recorded then left the content out. Since 2ee1544 the county / city"
  echo "tables (two thirds of the content) are read per state on the first calculation there: \`tax\` init medians"
  echo "33.4, 32.7, 43.2 → 19.2, 22.9, 16.1 ms and peak RSS 24.6 → 20.4 MiB in alternating rounds."
  echo
  echo "## Tax endpoint over loopback HTTP (\`sphere-local serve\`, 1-line request, keep-alive, ${SECONDS_PER_LEVEL} s per level)"
  echo
  cat "$tmp/tax.txt"
  echo
  echo "Each answer's calculation record is a deferred write: appended to the store's record log"
  echo "(\`<data-dir>/deferred.log\`, one fdatasync per group) without the request waiting, and moved into the"
  echo "B-tree in batches (every 250 ms or 4,096 records; replayed at start after a crash). A record is durable"
  echo "once its group is synced (normally within milliseconds); if the process dies before that, the records"
  echo "still queued are lost — the answers were already returned. Record ids are time-ordered (UUID v7), so"
  echo "the batches append to the key space. On AWS the record is an awaited PutItem."
  echo
  echo "## Sync (simulator at zero latency, embedded store)"
  echo
  cat "$tmp/sync.txt"
  echo
  echo "The last row is a full reconciliation of 10,000 invoices + 20,000 credit notes chained over"
  echo "invocations of 30 s (10 s of work each after the 20 s safety margin): each resumes from the"
  echo "checkpoint written after every page, so the request count equals a one-invocation run."
  echo
  echo "## Exposure and filing reports (\`sphere-local bench-exposure\`, embedded store)"
  echo
  cat "$tmp/exposure.txt"
  echo
  echo "Reports read the running totals the sync keeps per (month, region) in the same atomic write as each"
  echo "transaction: the item count depends on months × regions, not on the number of invoices. Target: the"
  echo "exposure report ≤ 50 ms for 1,000,000 invoices."
  echo
  echo "## Webhook to ledger (\`sphere-local bench-webhooks\`, local server)"
  echo
  cat "$tmp/webhooks.txt"
  echo
  echo "From the void in the simulator to the ledger holding the invoice as VOIDED, one change at a time: the signed"
  echo "delivery, verification, the replay record, the coalescing delay (webhook::COALESCE), the targeted job's"
  echo "re-fetch of the invoice and its lines, and the fenced upsert. Target: under 5 s."
  echo
  echo "## Fault soak (long)"
  echo
  echo "${LONG_SOAK_ROUNDS:-300} rounds of random 429s, 5xx bursts, repeated/expired page tokens and killed sync runs while"
  echo "Sequence documents are created, changed, voided and credited; afterwards the ledger equalled Sequence"
  echo "exactly (same ids, statuses, amounts; none twice): $(grep -c 'test result: ok' "$tmp/soak.txt") passing run, ${soak_secs} s including the build."
  echo
  echo "## Binaries and start-up"
  echo
  echo "| binary | size |"
  echo "|---|---:|"
  printf "%s" "$sizes"
  echo
  echo "Local server cold start: $cold. It includes loading the tax content (the cold_load row above), which the server does at start, as the tax Lambda does at init; the first invoice to a state held as a county / city table reads that state's table (cold_load_and_first_tx_call minus cold_load for Texas, the largest)."
  echo
  echo "## Targets"
  echo
  python3 - "$tmp/tax.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 6 and cells[0].isdigit():
        rows[int(cells[0])] = dict(rps=float(cells[1]), p50=float(cells[2]), p99=float(cells[3]), errors=int(cells[4]))
def verdict(ok): return "met" if ok else "**missed**"
if 1 in rows:
    r = rows[1]
    print(f"- concurrency 1: p50 {r['p50']} ms (≤ 0.3) {verdict(r['p50'] <= 0.3)}; p99 {r['p99']} ms (≤ 1) {verdict(r['p99'] <= 1.0)}")
if 64 in rows:
    r = rows[64]
    print(f"- concurrency 64: {r['rps']:.0f} requests/s (≥ 10,000) {verdict(r['rps'] >= 10000)}; p99 {r['p99']} ms (≤ 15) {verdict(r['p99'] <= 15.0)}")
runs = []
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 6 and cells[0].startswith("run "):
        runs.append(dict(rps=float(cells[1]), p99=float(cells[3]), errors=int(cells[4])))
if runs:
    ok = all(r["p99"] <= 15.0 and r["rps"] >= 10000 and r["errors"] == 0 for r in runs)
    p99s = ", ".join(f"{r['p99']}" for r in runs)
    print(f"- {len(runs)} consecutive runs at concurrency 64, each p99 ≤ 15 ms and ≥ 10,000 requests/s: p99 {p99s} ms, {min(r['rps'] for r in runs):.0f}–{max(r['rps'] for r in runs):.0f} requests/s {verdict(ok)}")
print(f"- errors at every level: {sum(r['errors'] for r in rows.values())} {verdict(all(r['errors'] == 0 for r in rows.values()))}")
PY
  echo
  echo "Known gaps and their causes (see README):"
  echo
  echo "- A function's cold start *to its first handled event* needs a Lambda Runtime API: this script measures"
  echo "  the tax function up to the end of init (above) and the local server to its first answer. Resident memory"
  echo "  after 200 invocations under cargo lambda watch was measured by hand on 2026-11-26: 19.5 MiB for tax."
  echo "  Next step: drive cargo lambda watch + invoke from this script."
} >"$out"
echo "==> wrote $out"
cat "$out"
