#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the services of docker-compose.yml with plain `podman run`, for hosts whose
podman-compose cannot: Debian 12's podman-compose 1.0.3 adds a bridge network to every service,
so `network_mode: host` fails ("cannot set multiple networks without bridge network mode").
Understands the keys pgorm's docker-compose.yml uses (image, network_mode, environment, tmpfs,
ports, healthcheck) and nothing more; an unknown key is an error, not silently dropped.

    tools/containers/compose.py [-f FILE] [-p PROJECT] up      start every service, wait healthy
    tools/containers/compose.py [-f FILE] [-p PROJECT] down    remove the project's containers

Containers are named <project>_<service> and labelled io.podman.compose.project=<project>.
Environment: PGORM_CONTAINER_ENGINE (podman), PGORM_CONTAINER_RUNTIME (runc when installed).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

KNOWN_KEYS = {"image", "network_mode", "environment", "tmpfs", "ports", "healthcheck"}


def seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", str(text))
    if not match:
        raise SystemExit(f"compose.py: bad duration {text!r}")
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value * 60 if match.group(2) == "m" else value


def run_args(project: str, name: str, service: dict, runtime: str) -> list[str]:
    unknown = set(service) - KNOWN_KEYS
    if unknown:
        raise SystemExit(f"compose.py: service {name}: unsupported keys {sorted(unknown)}")
    args = ["run", "--detach", "--name", f"{project}_{name}",
            "--label", f"io.podman.compose.project={project}",
            "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
    if runtime:
        args += ["--runtime", runtime]
    if "network_mode" in service:
        args += ["--network", service["network_mode"]]
    env = service.get("environment", {})
    items = env.items() if isinstance(env, dict) else (e.split("=", 1) for e in env)
    for key, value in items:
        args += ["--env", f"{key}={value}"]
    for path in service.get("tmpfs", []):
        args += ["--tmpfs", path]
    for port in service.get("ports", []):
        args += ["--publish", str(port)]
    args.append(service["image"])
    return args


def healthy(engine: str, container: str, check: dict) -> bool:
    test = check["test"]
    if test[0] == "CMD":
        command = test[1:]
    elif test[0] == "CMD-SHELL":
        command = ["/bin/sh", "-c", test[1]]
    else:
        raise SystemExit(f"compose.py: unsupported healthcheck {test!r}")
    timeout = seconds(check.get("timeout", "30s"))
    try:
        done = subprocess.run([engine, "exec", container, *command], capture_output=True,
                              timeout=timeout + 5, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-f", "--file", default="docker-compose.yml")
    parser.add_argument("-p", "--project", default="pgorm")
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args()
    engine = os.environ.get("PGORM_CONTAINER_ENGINE", "podman")
    runtime = os.environ.get("PGORM_CONTAINER_RUNTIME", "runc" if shutil.which("runc") else "")
    with open(args.file, encoding="utf-8") as f:
        services = yaml.safe_load(f)["services"]

    if args.command == "down":
        listed = subprocess.run(
            [engine, "ps", "--all", "--quiet", "--filter",
             f"label=io.podman.compose.project={args.project}"],
            capture_output=True, text=True, check=True, timeout=60)
        ids = listed.stdout.split()
        if ids:
            subprocess.run([engine, "rm", "--force", "--time", "5", *ids], check=True,
                           capture_output=True, timeout=120)
        print(f"compose.py: removed {len(ids)} container(s)")
        return 0

    for name, service in services.items():
        subprocess.run([engine, *run_args(args.project, name, service, runtime)], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
    for name, service in services.items():
        check = service.get("healthcheck")
        if not check:
            continue
        container = f"{args.project}_{name}"
        interval = seconds(check.get("interval", "30s"))
        for _ in range(int(check.get("retries", 3)) + 1):
            if healthy(engine, container, check):
                print(f"compose.py: {name} is healthy")
                break
            time.sleep(interval)
        else:
            logs = subprocess.run([engine, "logs", container], capture_output=True, text=True,
                                  check=False, timeout=60)
            print(f"compose.py: {name} never became healthy:\n{logs.stdout}{logs.stderr}",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
