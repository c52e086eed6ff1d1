#!/usr/bin/env python3
"""The tax function's cold start, for scripts/bench.sh: the release `tax` binary started as Lambda starts it,
against DynamoDB and Secrets Manager in moto (the .venv of scripts/test.sh) and with no Lambda Runtime API to
answer, so it exits right after init. Reads its `initialised` log line (init_ms, aws_ms, content_ms) and its peak
RSS (`/usr/bin/time -v`) over 9 starts, and the binary's size zipped as the Lambda package. Prints table rows.

    .venv/bin/python scripts/bench_tax_init.py target/release/tax /tmp/some-dir
"""
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    port = free_port()
    moto = subprocess.Popen([".venv/bin/moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="test",
                   AWS_SECRET_ACCESS_KEY="test", AWS_REGION="eu-west-1", TABLE_NAME="bench-init",
                   API_KEY_PEPPER_SECRET_ID="bench/api-key-pepper",
                   AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{free_port()}", AWS_LAMBDA_FUNCTION_NAME="tax",
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256", AWS_LAMBDA_FUNCTION_VERSION="1", NO_COLOR="1")
        subprocess.run([sys.executable, "scripts/local-aws.py", "--endpoint", env["AWS_ENDPOINT_URL"], "--table",
                        "bench-init", "--queue", "bench-init", "--pepper", "bench/api-key-pepper"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        runs = []
        for _ in range(9):
            done = subprocess.run(["/usr/bin/time", "-v", binary], env=env, capture_output=True, text=True)
            out = done.stdout + done.stderr  # the log line on stdout, time's report on stderr
            out = re.sub(r"\x1b\[[0-9;]*m", "", out)
            m = {k: float(v) for k, v in re.findall(r"\b(init_ms|aws_ms|content_ms)=([0-9.]+)", out)}
            rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out)
            if len(m) == 3 and rss:
                runs.append(dict(m, rss=int(rss.group(1)) / 1024))
    finally:
        moto.kill()
        moto.wait()
    if not runs:
        print("| not measured: the binary logged no init line | | |")
        return

    def med(k):
        return statistics.median(r[k] for r in runs)

    size = os.path.getsize(binary) / 1e6
    subprocess.run(["zip", "-q", "-9", "-j", f"{tmp}/tax.zip", binary], check=True)
    zipped = os.path.getsize(f"{tmp}/tax.zip") / 1e6
    lo, hi = min(r["init_ms"] for r in runs), max(r["init_ms"] for r in runs)
    print(f"| init (the `initialised init_ms` log line: AWS clients, pepper and warm-up reads, and the tax content "
          f"loaded beside them), median of {len(runs)} starts | {med('init_ms'):.1f} ms (min {lo:.1f}, max {hi:.1f}) "
          f"| ≤ 50 ms |")
    print(f"| of which the tax content (`content_ms`, its own thread) / the AWS side (`aws_ms`) "
          f"| {med('content_ms'):.1f} ms / {med('aws_ms'):.1f} ms | |")
    print(f"| peak resident memory through init (`/usr/bin/time -v`) | {med('rss'):.1f} MiB | ≤ 128 MB |")
    print(f"| `tax` binary (x86_64 release) / zipped (`zip -9`, the Lambda package) | {size:.1f} MB / {zipped:.1f} MB "
          f"| ≤ 50 MB zipped |")


if __name__ == "__main__":
    main()
