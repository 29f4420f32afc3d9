#!/usr/bin/env python3
"""Deployment files agree with the code and with ARCHITECTURE.md.

Checks deploy/docker/Dockerfile (shared build and runtime stages on debian:bookworm-slim, build
packages also installed by deploy/local/lib/install-deps.sh, non-root) and, for every service,
its stage there (on the runtime stage, the binary its CMakeLists builds, the ports it listens
on), deploy/compose/compose.yaml (image built from that stage, the same ports published, Prometheus scraping the metrics ports), and, when given
the chart's rendered manifests, the Helm values' ports. Ports come from the services' own
defaults in main.cc, and from ARCHITECTURE.md's table when it is found (../shared/design or
$PEP_ARCHITECTURE_MD), which must then agree too. Exit 0 when all agree.
"""
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = {  # compose/chart name -> (directory, binary)
    "ideas": ("ideas", "pep-ideas"),
    "incubation": ("incubation", "pep-incubation"),
    "feedback": ("feedback", "pep-feedback"),
    "audit": ("audit", "pep-audit"),
    "notify": ("notify", "pep-notify"),
    "gateway": ("gateway", "pep-gateway"),
}
problems = []


def fail(msg):
    problems.append(msg)


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def ports_from_code():
    ports = {}
    for name, (d, _) in SERVICES.items():
        main = read("services", d, "main.cc")
        if name == "gateway":
            http = re.search(r'ABSL_FLAG\(int, http_port, (\d+)', main)
            metrics = re.search(r'ABSL_FLAG\(int, metrics_port, (\d+)', main)
        else:
            http = re.search(r'\.grpc_port = (\d+)', main)
            metrics = re.search(r'\.metrics_port = (\d+)', main)
        if not http or not metrics:
            fail(f"services/{d}/main.cc: default ports not found")
            continue
        ports[name] = (int(http.group(1)), int(metrics.group(1)))
    return ports


def ports_from_architecture():
    candidates = [os.environ.get("PEP_ARCHITECTURE_MD", ""),
                  os.path.join(ROOT, "..", "shared", "design", "ARCHITECTURE.md")]
    for path in candidates:
        if path and os.path.exists(path):
            text = open(path, encoding="utf-8").read()
            ports = {}
            for name in SERVICES:
                m = re.search(r"\|\s*pep-%s\s*\|\s*(?:HTTP\s*)?(\d+)\s*\|\s*(\d+)\s*\|" % name, text)
                if m:
                    ports[name] = (int(m.group(1)), int(m.group(2)))
            return path, ports
    return None, {}


def dockerfile_stages():
    """deploy/docker/Dockerfile as {stage name: (base, text of the stage)}."""
    stages = {}
    text = read("deploy", "docker", "Dockerfile")
    for m in re.finditer(r"^FROM (\S+) AS (\S+)\n(.*?)(?=^FROM |\Z)", text, re.M | re.S):
        stages[m.group(2)] = (m.group(1), m.group(3))
    return stages


def check_dockerfile(stages, packages):
    """The shared stages: both on debian:bookworm-slim, the build stage's packages those
    install-deps.sh installs, the runtime stage as the non-root user 10001."""
    for shared in ("build", "runtime"):
        if stages.get(shared, ("",))[0] != "debian:bookworm-slim":
            fail(f"deploy/docker/Dockerfile: no stage {shared} on debian:bookworm-slim")
    runtime = stages.get("runtime", ("", ""))[1]
    if not re.search(r"^USER 10001$", runtime, re.M):
        fail("deploy/docker/Dockerfile: the runtime stage does not run as the non-root user 10001")
    build = stages.get("build", ("", ""))[1]
    for pkg in re.findall(r"(lib[\w+.-]+-dev|protobuf-compiler[\w-]*|cmake|ninja-build)", build):
        if pkg not in packages:
            fail(f"deploy/docker/Dockerfile installs {pkg}, which install-deps.sh does not")
    built = re.search(r"--target ((?:[^\n\\]|\\\n)*)", build)  # continued lines too
    return set(re.findall(r"[\w-]+", built.group(1))) if built else set()


def check_image(name, ports, stages, built):
    """The image's stage: from runtime, its binary (built by the build stage, made by its
    CMakeLists) as entrypoint, the ports it listens on exposed."""
    d, binary = SERVICES[name]
    where = f"deploy/docker/Dockerfile, stage {name}"
    cmake = read("services", d, "CMakeLists.txt")
    if f"add_executable({binary} " not in cmake:
        fail(f"services/{d}/CMakeLists.txt does not build {binary}")
    if name not in stages:
        fail(f"deploy/docker/Dockerfile: no stage {name}")
        return
    base, text = stages[name]
    if base != "runtime":
        fail(f"{where}: not built on the runtime stage")
    if binary not in built:
        fail(f"{where}: the build stage does not build {binary}")
    if f"/build/services/{d}/{binary}" not in text:
        fail(f"{where}: does not copy {binary} from the build stage")
    if f'ENTRYPOINT ["/opt/pepiniere/bin/{binary}"]' not in text:
        fail(f"{where}: entrypoint is not {binary}")
    expose = re.search(r"^EXPOSE (.*)$", text, re.M)
    if not expose or sorted(map(int, expose.group(1).split())) != sorted(ports):
        fail(f"{where}: EXPOSE {expose.group(1) if expose else None}, expected {ports}")


def check_compose(ports):
    compose = yaml.safe_load(read("deploy", "compose", "compose.yaml"))
    svcs = compose["services"]
    if not svcs.get("kafka", {}).get("image", "").startswith("apache/kafka:"):
        fail("compose: kafka is not the apache/kafka image")
    for name, (d, _) in SERVICES.items():
        s = svcs.get(name)
        if s is None:
            fail(f"compose: no service {name}")
            continue
        build = s.get("build", {})
        if build.get("dockerfile") != "deploy/docker/Dockerfile" or build.get("target") != name:
            fail(f"compose: {name} is not built from deploy/docker/Dockerfile, target {name}")
        published = sorted(int(p.split(":")[0]) for p in s.get("ports", []))
        inside = sorted(int(p.split(":")[1]) for p in s.get("ports", []))
        if published != sorted(ports[name]) or inside != sorted(ports[name]):
            fail(f"compose: {name} ports {s.get('ports')}, expected {ports[name]}")
    prom = yaml.safe_load(read("deploy", "compose", "prometheus.yml"))
    targets = {c["job_name"]: c["static_configs"][0]["targets"][0] for c in prom["scrape_configs"]}
    for name in SERVICES:
        want = f"{name}:{ports[name][1]}"
        if targets.get(f"pep-{name}") != want:
            fail(f"compose prometheus.yml: pep-{name} scrapes {targets.get('pep-' + name)}, expected {want}")
    local = yaml.safe_load(read("deploy", "prometheus", "prometheus.yml"))
    for c in local["scrape_configs"]:
        job = c["job_name"].replace("pep-", "")
        if job in ports and c["static_configs"][0]["targets"][0] != f"127.0.0.1:{ports[job][1]}":
            fail(f"deploy/prometheus/prometheus.yml: {c['job_name']} scrapes the wrong port")


def check_chart(rendered_path, ports):
    docs = [d for d in yaml.safe_load_all(open(rendered_path, encoding="utf-8")) if d]
    services = {d["metadata"]["labels"].get("app.kubernetes.io/component"): d
                for d in docs if d.get("kind") == "Service"}
    for name in SERVICES:
        svc = services.get(name)
        if svc is None:
            fail(f"chart: no Service for {name}")
            continue
        got = sorted(p["port"] for p in svc["spec"]["ports"])
        if got != sorted(ports[name]):
            fail(f"chart: Service {name} ports {got}, expected {ports[name]}")


def main(argv):
    packages = set(re.findall(r"[\w+.-]+", read("deploy", "local", "lib", "install-deps.sh").split("PKGS=(")[1].split(")")[0]))
    code = ports_from_code()
    arch_path, arch = ports_from_architecture()
    if arch_path:
        for name, p in arch.items():
            if code.get(name) != p:
                fail(f"{name}: code says {code.get(name)}, ARCHITECTURE.md says {p}")
        if len(arch) != len(SERVICES):
            fail(f"ARCHITECTURE.md: found ports for {sorted(arch)} only")
    stages = dockerfile_stages()
    built = check_dockerfile(stages, packages)
    for name in SERVICES:
        if name in code:
            check_image(name, code[name], stages, built)
    check_compose(code)
    if len(argv) > 1:
        check_chart(argv[1], code)
    print("ports:", code, "| ARCHITECTURE.md:", arch_path or "not found (checked against the code only)")
    if problems:
        for p in problems:
            print("FAIL", p)
        return 1
    print("OK: Dockerfile, compose" + (", chart" if len(argv) > 1 else "") + " agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
