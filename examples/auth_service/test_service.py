#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ctest example.auth_service: starts auth_service on a free loopback port against the run's
test server, drives it with curl (one request at a time, then 200 at once with curl --parallel),
checks every status code and body, then checks the rows with psql. The service is stopped
(SIGTERM, then SIGKILL) whatever happens.

Usage: test_service.py --program PATH --state-dir DIR
  DIR/conninfo holds the test server's conninfo (the pgorm_server fixture writes it);
  PGORM_TEST_DATABASE_URL, when set, is used instead.
Needs curl and psql (Debian: curl, postgresql-client). Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SCHEMA = "auth_service_test"
SCRYPT_N = 1024  # Better Auth's is 16384; smaller keeps the test fast (hashes checked below)
TIMEOUT = 60  # seconds for any one step: generous, for a busy machine


class Failure(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failure(what)


def psql(conninfo: str, sql: str) -> list[list[str]]:
    """Runs sql in SCHEMA; returns the rows, each a list of text fields."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
         "-c", f"set search_path = {SCHEMA}", "-c", sql],
        check=True, capture_output=True, text=True, timeout=TIMEOUT,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"}).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def scalar(conninfo: str, sql: str) -> str:
    rows = psql(conninfo, sql)
    check(len(rows) == 1 and len(rows[0]) == 1, f"{sql}: expected one value, got {rows}")
    return rows[0][0]


class Service:
    """The auth_service process; stop() is idempotent and always leaves no process behind."""

    def __init__(self, program: str, conninfo: str) -> None:
        env = {**os.environ, "DATABASE_URL": conninfo}
        self.proc = subprocess.Popen(
            [program, "--port", "0", "--schema", SCHEMA, "--scrypt-n", str(SCRYPT_N)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.output: list[str] = []
        self.errors: list[str] = []
        self.port: int | None = None
        ready = threading.Event()

        def read_stdout() -> None:
            for line in self.proc.stdout:
                self.output.append(line)
                m = re.match(r"listening on http://127\.0\.0\.1:(\d+)$", line.strip())
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()  # it exited before listening

        def read_stderr() -> None:
            for line in self.proc.stderr:
                self.errors.append(line)

        self.readers = [threading.Thread(target=read_stdout, daemon=True),
                        threading.Thread(target=read_stderr, daemon=True)]
        for t in self.readers:
            t.start()
        ready.wait(TIMEOUT)
        if self.port is None:
            self.stop()
            raise Failure("the service did not listen:\n" + "".join(self.output + self.errors))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self.readers:
            t.join(5)
        return self.proc.returncode


class Client:
    def __init__(self, port: int, workdir: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.workdir = workdir

    def request(self, method: str, path: str, body: object | None = None,
                token: str | None = None) -> tuple[int, object | None]:
        """One request with curl; returns (status, parsed JSON body or None when empty)."""
        out = self.workdir / "body"
        args = ["curl", "-sS", "--noproxy", "*", "--max-time", str(TIMEOUT), "-o", str(out),
                "-w", "%{http_code}", "-X", method, self.base + path]
        if body is not None:
            args += ["-H", "Content-Type: application/json",
                     "--data-binary", body if isinstance(body, str) else json.dumps(body)]
        if token is not None:
            args += ["-H", f"Authorization: Bearer {token}"]
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT + 10)
        check(done.returncode == 0, f"curl {method} {path} failed: {done.stderr}")
        text = out.read_text() if out.exists() else ""
        out.unlink(missing_ok=True)
        return int(done.stdout), (json.loads(text) if text else None)

    def parallel(self, requests: list[dict]) -> list[tuple[int, object | None]]:
        """All of `requests` at once (curl --parallel, one connection each); each is a dict
        with method, path, and optionally body and token. Returns (status, body) in order."""
        config = []
        for i, r in enumerate(requests):
            if i:
                config.append("next")
            config += [f'url = "{self.base}{r["path"]}"', f'request = "{r["method"]}"',
                       f'output = "{self.workdir / f"out{i}"}"',
                       'write-out = "%{urlnum} %{http_code}\\n"', 'noproxy = "*"',
                       f"max-time = {TIMEOUT}"]
            if "body" in r:
                data = json.dumps(r["body"]).replace("\\", "\\\\").replace('"', '\\"')
                config += ['header = "Content-Type: application/json"',
                           f'data-binary = "{data}"']
            if "token" in r:
                config.append(f'header = "Authorization: Bearer {r["token"]}"')
        cfg = self.workdir / "parallel.cfg"
        cfg.write_text("\n".join(config) + "\n")
        done = subprocess.run(
            ["curl", "-sS", "--parallel", "--parallel-immediate", "--parallel-max",
             str(len(requests)), "-K", str(cfg)],
            capture_output=True, text=True, timeout=TIMEOUT + 30)
        check(done.returncode == 0, f"curl --parallel failed ({done.returncode}): {done.stderr}")
        codes: dict[int, int] = {}
        for line in done.stdout.splitlines():
            num, code = line.split()
            codes[int(num)] = int(code)
        check(sorted(codes) == list(range(len(requests))),
              f"curl --parallel reported {len(codes)} of {len(requests)} transfers")
        results = []
        for i in range(len(requests)):
            out = self.workdir / f"out{i}"
            text = out.read_text() if out.exists() else ""
            results.append((codes[i], json.loads(text) if text else None))
        return results


def expect(got: tuple[int, object | None], status: int, what: str) -> object | None:
    check(got[0] == status, f"{what}: expected {status}, got {got[0]} {got[1]}")
    return got[1]


def scrypt_matches(password: str, stored: str) -> bool:
    """Better Auth's check, done independently: scrypt(password, salt's hex text) == key."""
    salt, key = stored.split(":")
    derived = hashlib.scrypt(password.encode(), salt=salt.encode(), n=SCRYPT_N, r=16, p=1,
                             dklen=64, maxmem=64 * 1024 * 1024)
    return derived.hex() == key


def scenario(c: Client, conninfo: str) -> None:
    # ---- one at a time ----
    ada = {"email": "Ada@Example.com", "password": "correct horse", "name": "Ada"}
    body = expect(c.request("POST", "/signup", ada), 201, "signup")
    check(body["email"] == "ada@example.com" and body["name"] == "Ada" and
          re.fullmatch(r"[A-Za-z0-9]{32}", body["id"]) is not None, f"signup body: {body}")
    ada_id = body["id"]
    body = expect(c.request("POST", "/signup", {**ada, "email": "ada@example.com"}), 409,
                  "signup with a taken e-mail")
    check(body == {"error": "email already registered"}, f"409 body: {body}")
    expect(c.request("POST", "/signup", "{not json"), 400, "signup with a malformed body")
    expect(c.request("POST", "/signup", {**ada, "email": "bob@example.com", "password": "short"}),
           400, "signup with a short password")
    expect(c.request("POST", "/signup", {"email": "no-at-sign", "password": "long enough",
                                         "name": "X"}), 400, "signup with a bad e-mail")

    expect(c.request("POST", "/login", {"email": "ada@example.com", "password": "wrong horse"}),
           401, "login with a wrong password")
    expect(c.request("POST", "/login", {"email": "nobody@example.com", "password": "x" * 10}),
           401, "login with an unknown e-mail")
    body = expect(c.request("POST", "/login", {"email": "ADA@example.com",
                                                "password": "correct horse"}), 200, "login")
    token = body["token"]
    check(re.fullmatch(r"[A-Za-z0-9]{32}", token) is not None, f"login body: {body}")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["expiresAt"]) is not None,
          f"expiresAt: {body}")
    check(scalar(conninfo, f"select (\"expiresAt\" - \"createdAt\") = interval '7 days' "
                           f"from session where token = '{token}'") == "t",
          "a new session lasts 7 days")

    body = expect(c.request("GET", "/me", token=token), 200, "me")
    check(body["id"] == ada_id and body["email"] == "ada@example.com" and body["name"] == "Ada",
          f"me body: {body}")
    expect(c.request("GET", "/me"), 401, "me without a token")
    expect(c.request("GET", "/me", token="not-a-token"), 401, "me with an unknown token")
    expect(c.request("POST", "/me"), 405, "POST /me")
    expect(c.request("GET", "/nowhere"), 404, "an unknown route")

    # A session last extended two days ago is extended by 7 days from now when used...
    psql(conninfo, f"update session set \"updatedAt\" = now() at time zone 'utc' - interval "
                   f"'2 days', \"expiresAt\" = now() at time zone 'utc' + interval '1 hour' "
                   f"where token = '{token}'")
    expect(c.request("GET", "/me", token=token), 200, "me with a session to extend")
    check(scalar(conninfo, f"select \"expiresAt\" > now() at time zone 'utc' + interval "
                           f"'6 days 23 hours' and \"updatedAt\" > now() at time zone 'utc' - "
                           f"interval '1 hour' from session where token = '{token}'") == "t",
          "GET /me extended a session last extended two days ago")
    # ...one extended an hour ago is left as it is...
    psql(conninfo, f"update session set \"updatedAt\" = now() at time zone 'utc' - interval "
                   f"'1 hour', \"expiresAt\" = now() at time zone 'utc' + interval '2 days' "
                   f"where token = '{token}'")
    expect(c.request("GET", "/me", token=token), 200, "me with a recent session")
    check(scalar(conninfo, f"select \"expiresAt\" < now() at time zone 'utc' + interval "
                           f"'3 days' from session where token = '{token}'") == "t",
          "GET /me left a session extended an hour ago alone")
    # ...and an expired one is refused.
    psql(conninfo, f"update session set \"expiresAt\" = now() at time zone 'utc' - interval "
                   f"'1 second' where token = '{token}'")
    expect(c.request("GET", "/me", token=token), 401, "me with an expired session")

    body = expect(c.request("POST", "/login", {"email": "ada@example.com",
                                                "password": "correct horse"}), 200, "login again")
    token = body["token"]
    expect(c.request("POST", "/logout", token=token), 204, "logout")
    expect(c.request("GET", "/me", token=token), 401, "me after logout")
    expect(c.request("POST", "/logout", token=token), 401, "logout twice")

    expect(c.request("POST", "/waitlist", {"email": "linus@example.net", "source": "landing"}),
           201, "waitlist")
    body = expect(c.request("POST", "/waitlist", {"email": "linus@example.net"}), 409,
                  "waitlist twice")
    check(body == {"error": "already on the waitlist"}, f"waitlist 409 body: {body}")

    # A session to read concurrently.
    grace = {"email": "grace@example.com", "password": "hopper hopper", "name": "Grace"}
    grace_id = expect(c.request("POST", "/signup", grace), 201, "signup grace")["id"]
    grace_token = expect(c.request("POST", "/login", grace), 200, "login grace")["token"]

    # ---- 200 at once ----
    reqs: list[dict] = []
    for i in range(80):  # 80 new users: all 201
        reqs.append({"method": "POST", "path": "/signup",
                     "body": {"email": f"user{i}@load.example", "password": f"password {i}",
                              "name": f"User {i}"}})
    for i in range(20):  # one e-mail 20 times: one 201, nineteen 409
        reqs.append({"method": "POST", "path": "/signup",
                     "body": {"email": "twin@load.example", "password": f"twin pass {i}",
                              "name": f"Twin {i}"}})
    for i in range(40):  # 20 e-mails twice each: one 201 and one 409 for each
        reqs.append({"method": "POST", "path": "/waitlist",
                     "body": {"email": f"wait{i % 20}@load.example", "source": "load"}})
    for _ in range(30):  # the same session, read 30 times
        reqs.append({"method": "GET", "path": "/me", "token": grace_token})
    for _ in range(30):  # 30 sessions for ada
        reqs.append({"method": "POST", "path": "/login",
                     "body": {"email": "ada@example.com", "password": "correct horse"}})
    check(len(reqs) == 200, "200 requests")
    results = c.parallel(reqs)

    user_ids = set()
    for i in range(80):
        body = expect(results[i], 201, f"concurrent signup {i}")
        check(body["email"] == f"user{i}@load.example", f"concurrent signup {i}: {body}")
        user_ids.add(body["id"])
    check(len(user_ids) == 80, "80 distinct user ids")
    twins = [results[80 + i][0] for i in range(20)]
    check(sorted(twins) == [201] + [409] * 19, f"the twin sign-ups: {twins}")
    for e in range(20):
        pair = sorted([results[100 + e][0], results[120 + e][0]])
        check(pair == [201, 409], f"waitlist wait{e}: {pair}")
    for i in range(30):
        body = expect(results[140 + i], 200, f"concurrent me {i}")
        check(body["id"] == grace_id and body["email"] == "grace@example.com",
              f"concurrent me {i}: {body}")
    tokens = set()
    for i in range(30):
        tokens.add(expect(results[170 + i], 200, f"concurrent login {i}")["token"])
    check(len(tokens) == 30, "30 distinct session tokens")

    # ---- the rows ----
    check(scalar(conninfo, "select count(*) from \"user\"") == "83", "83 users")
    check(scalar(conninfo, "select count(*) from \"user\" where email like '%@load.example'")
          == "81", "81 users from the concurrent sign-ups")
    check(scalar(conninfo, "select count(*) from account a join \"user\" u on u.id = "
                           "a.\"userId\" where a.\"providerId\" = 'credential' and "
                           "a.\"accountId\" = u.id and a.password ~ '^[0-9a-f]{32}:[0-9a-f]{128}$'")
          == "83", "one credential account per user, holding a salt:key hash")
    for email, password in [("ada@example.com", "correct horse"),
                            ("user7@load.example", "password 7")]:
        stored = scalar(conninfo, "select a.password from account a join \"user\" u on u.id = "
                                  f"a.\"userId\" where u.email = '{email}'")
        check(scrypt_matches(password, stored), f"{email}'s hash is scrypt of its password")
        check(not scrypt_matches(password + "!", stored), "a wrong password does not match")
    twin_pass = scalar(conninfo, "select a.password from account a join \"user\" u on u.id = "
                                 "a.\"userId\" where u.email = 'twin@load.example'")
    check(sum(scrypt_matches(f"twin pass {i}", twin_pass) for i in range(20)) == 1,
          "the twin's account holds the hash of the sign-up that won")
    check(scalar(conninfo, f"select count(*) from session where \"userId\" = '{ada_id}'") == "31",
          "ada: 30 concurrent sessions and the expired one (the logged-out one is gone)")
    rows = psql(conninfo, f"select token from session where \"userId\" = '{ada_id}' and "
                          "\"expiresAt\" > now() at time zone 'utc'")
    check({r[0] for r in rows} == tokens, "the live sessions are those the logins returned")
    check(scalar(conninfo, "select count(*) from session where \"userAgent\" like 'curl/%' and "
                           "\"ipAddress\" = '127.0.0.1'") == "32",
          "each session records the client's address and user agent")
    check(scalar(conninfo, "select count(*) from waitlist") == "21", "21 waitlist rows")
    check(scalar(conninfo, "select count(*) from waitlist where source = 'load'") == "20",
          "20 from the concurrent requests")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--program", required=True)
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args()
    conninfo = os.environ.get("PGORM_TEST_DATABASE_URL") or \
        (Path(args.state_dir) / "conninfo").read_text().strip()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c",
                    f"drop schema if exists {SCHEMA} cascade"], check=True, timeout=TIMEOUT,
                   capture_output=True)
    service = Service(args.program, conninfo)
    try:
        with tempfile.TemporaryDirectory(prefix="auth_service_test.") as work:
            scenario(Client(service.port, Path(work)), conninfo)
    except (Failure, subprocess.SubprocessError, KeyError, TypeError, ValueError) as e:
        service.stop()
        print(f"FAIL: {e}", file=sys.stderr)
        print("service output:\n" + "".join(service.output + service.errors), file=sys.stderr)
        return 1
    finally:
        service.stop()
    code = service.stop()
    print("".join(service.output), end="")
    if code != 0 or service.errors:
        print(f"FAIL: the service exited with {code} after SIGTERM:\n" + "".join(service.errors),
              file=sys.stderr)
        return 1
    subprocess.run(["psql", "-X", "-q", "-d", conninfo, "-c",
                    f"drop schema if exists {SCHEMA} cascade"], timeout=TIMEOUT,
                   capture_output=True)
    print("auth_service: every response and row as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
