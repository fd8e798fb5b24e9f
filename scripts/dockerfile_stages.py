#!/usr/bin/env python3
"""Reproduce the Dockerfile's cargo build stages without Docker.

For every stage that runs cargo (a "builder" stage), this lays out in a scratch folder exactly
what the stage's instructions put into the image's file system: each COPY from the build context
(honouring .dockerignore the way Docker does: the last matching pattern wins, a pattern matching
a parent folder matches what is inside), WORKDIR, and the file operations of RUN (mkdir, touch,
echo > file, rm, cp, mv, ...). Then it runs the stage's cargo commands in that folder, in order,
with --offline (run `cargo fetch` once beforehand) and CARGO_TARGET_DIR pointing at a persistent
folder so that repeated runs are incremental. A file that no COPY brings (a workspace member's
manifest, a declared [[bench]], a module) makes cargo fail here as it would in `docker build`.

Other stages are checked, not built: each COPY source must exist in the build context (and not
be excluded by .dockerignore), and each COPY --from=<builder stage> source must exist in that
stage's layout or among the cargo outputs (the container's target/ maps to CARGO_TARGET_DIR).

RUN segments that install or clean system packages (apt-get, rm of /var/lib/apt/lists, useradd,
...) are not reproduced: the machine running this needs the same build dependencies installed
(pkg-config, make, g++, libssl-dev, zlib1g-dev for this project). Anything this script does not
understand fails loudly instead of being skipped.

Usage: dockerfile_stages.py [--dockerfile Dockerfile] [--context .] --scratch DIR --target-dir DIR
"""

import argparse
import fnmatch
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time


class StageError(Exception):
    pass


# --- Dockerfile parsing ----------------------------------------------------------------------------


def parse_dockerfile(text):
    """Returns [(line_number, INSTRUCTION, arguments)] with continuations joined."""
    lines = text.splitlines()
    escape = "\\"
    # Parser directives: only at the very top, before any instruction, comment or blank line.
    for line in lines:
        m = re.match(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$", line)
        if not m:
            break
        if m.group(1).lower() == "escape":
            escape = m.group(2)
    instructions = []
    buffer, start = None, 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if buffer is None:
            if not stripped or stripped.startswith("#"):
                continue
            buffer, start = "", number
        elif stripped.startswith("#") or not stripped:
            # Comments and blank lines inside a continued instruction are dropped.
            continue
        if line.rstrip().endswith(escape):
            buffer += line.rstrip()[: -len(escape)] + " "
            continue
        buffer += line
        keyword, _, rest = buffer.strip().partition(" ")
        instructions.append((start, keyword.upper(), rest.strip()))
        buffer = None
    if buffer is not None:
        raise StageError(f"Dockerfile:{start}: the last instruction ends with a line continuation")
    for number, keyword, rest in instructions:
        if re.search(r"<<-?\s*['\"]?[A-Za-z_]", rest) and keyword in ("RUN", "COPY", "ADD"):
            raise StageError(f"Dockerfile:{number}: here-documents are not supported by this check")
    return instructions


def substitute(value, variables):
    """Docker's $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} in COPY, WORKDIR, ENV, ARG."""

    def replace(m):
        if m.group(1) is not None:
            name, op, word = m.group(1), m.group(2), m.group(3)
            current = variables.get(name)
            if op == ":-":
                return current if current else word
            if op == ":+":
                return word if current else ""
            return current or ""
        return variables.get(m.group(4), "")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)", replace, value)


def split_flags(rest):
    """`--from=builder --chown=1:1 a b c` -> ({'from': 'builder', 'chown': '1:1'}, 'a b c')."""
    flags = {}
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        name, _, value = flag[2:].partition("=")
        flags[name] = value
        rest = rest.strip()
    return flags, rest


def words(rest):
    """COPY/ADD arguments in shell form or JSON form."""
    if rest.startswith("["):
        try:
            return json.loads(rest)
        except json.JSONDecodeError:
            pass
    return shlex.split(rest)


def env_pairs(rest):
    """ENV a=b c="d e"  or the legacy  ENV a b c."""
    tokens = shlex.split(rest)
    if tokens and "=" not in tokens[0]:
        return [(tokens[0], " ".join(tokens[1:]))]
    return [tuple(t.split("=", 1)) for t in tokens]


class Stage:
    def __init__(self, index, name, base, line):
        self.index, self.name, self.base, self.line = index, name, base, line
        self.instructions = []

    def label(self):
        return self.name or str(self.index)

    def runs_cargo(self):
        return any(keyword == "RUN" and re.search(r"(^|[\s;&|(])cargo\s", " " + rest)
                   for _, keyword, rest in self.instructions)


def stages_of(instructions):
    stages, global_args = [], {}
    for number, keyword, rest in instructions:
        if keyword == "FROM":
            _, rest_ = split_flags(rest)
            parts = rest_.split()
            base = parts[0]
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else None
            stages.append(Stage(len(stages), name, substitute(base, global_args), number))
        elif not stages:
            if keyword == "ARG":
                name, _, default = rest.partition("=")
                global_args[name.strip()] = default.strip().strip('"')
            else:
                raise StageError(f"Dockerfile:{number}: {keyword} before the first FROM")
        else:
            stages[-1].instructions.append((number, keyword, rest))
    return stages, global_args


# --- .dockerignore ---------------------------------------------------------------------------------


def compile_pattern(pattern):
    """A .dockerignore pattern (Go filepath.Match plus **) as a regular expression."""
    out, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if i + 1 < len(pattern) and pattern[i + 1] == "*":
                i += 1
                if i + 1 < len(pattern) and pattern[i + 1] == "/":
                    i += 1
                    out += "(.*/)?"
                else:
                    out += ".*"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                body = pattern[i + 1:end]
                if body.startswith("!") or body.startswith("^"):
                    body = "^" + body[1:]
                out += "[" + body.replace("\\", "\\\\") + "]"
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$")


class DockerIgnore:
    def __init__(self, path):
        self.patterns = []
        if not os.path.isfile(path):
            return
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            exclusion = line.startswith("!")
            if exclusion:
                line = line[1:].strip()
            line = os.path.normpath(line).lstrip("/")
            if line in (".", ""):
                continue
            self.patterns.append((compile_pattern(line), exclusion, line.count("/") + 1))
        self.has_exclusions = any(exclusion for _, exclusion, _ in self.patterns)

    def ignored(self, rel):
        """moby's MatchesOrParentMatches: the last pattern matching the path or a parent wins."""
        parts = rel.split("/")
        matched = False
        for regex, exclusion, _ in self.patterns:
            hit = bool(regex.match(rel))
            if not hit and len(parts) > 1:
                for i in range(1, len(parts)):
                    if regex.match("/".join(parts[:i])):
                        hit = True
                        break
            if hit:
                matched = not exclusion
        return matched


def context_files(context, ignore):
    """Every file and folder Docker would send as the build context, relative, '/'-separated."""
    files, dirs = set(), set()
    for root, subdirs, names in os.walk(context):
        rel_root = os.path.relpath(root, context)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/")
        keep = []
        for d in subdirs:
            rel = f"{rel_root}/{d}" if rel_root else d
            if ignore.ignored(rel) and not ignore.has_exclusions:
                continue
            keep.append(d)
            if not ignore.ignored(rel):
                dirs.add(rel)
        subdirs[:] = keep
        for name in names:
            rel = f"{rel_root}/{name}" if rel_root else name
            if not ignore.ignored(rel):
                files.add(rel)
    return files, dirs


# --- the stage's file system -------------------------------------------------------------------------


class Layout:
    """A stage's file system: container path /a/b lives at <root>/a/b."""

    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def host(self, container_path):
        return os.path.join(self.root, container_path.lstrip("/"))

    def in_tree(self, container_path):
        """True when the path's top folder was created by the stage (WORKDIR, COPY)."""
        top = container_path.lstrip("/").split("/", 1)[0]
        return bool(top) and os.path.exists(os.path.join(self.root, top))


def container_join(workdir, path):
    return os.path.normpath(path if path.startswith("/") else os.path.join(workdir, path))


# --- the check -------------------------------------------------------------------------------------


class Runner:
    def __init__(self, dockerfile, context, scratch, target_dir):
        self.dockerfile, self.context = dockerfile, os.path.abspath(context)
        self.scratch, self.target_dir = os.path.abspath(scratch), os.path.abspath(target_dir)
        self.ignore = DockerIgnore(os.path.join(self.context, ".dockerignore"))
        self.files, self.dirs = context_files(self.context, self.ignore)
        self.layouts = {}       # stage label -> Layout
        self.container_targets = {}  # stage label -> container path of cargo's target dir
        self.log = []

    def say(self, text):
        print(text, flush=True)

    # COPY from the build context
    def context_sources(self, source, number):
        rel = os.path.normpath(source).lstrip("/")
        if rel in (".", ""):
            return [""]
        if any(c in rel for c in "*?["):
            hits = sorted(p for p in self.files | self.dirs if fnmatch.fnmatchcase(p, rel)
                          and p.count("/") == rel.count("/"))
            if not hits:
                raise StageError(f"Dockerfile:{number}: COPY {source}: nothing in the build context matches")
            return hits
        if rel in self.files or rel in self.dirs:
            return [rel]
        why = ("excluded by .dockerignore" if os.path.exists(os.path.join(self.context, rel))
               else "not in the build context")
        raise StageError(f"Dockerfile:{number}: COPY {source}: {why}")

    def copy_from_context(self, layout, sources, dest, number):
        count = 0
        for rel in sources:
            if rel == "" or rel in self.dirs:
                prefix = rel + "/" if rel else ""
                members = sorted(f for f in self.files if f.startswith(prefix))
                for f in members:
                    target = layout.host(os.path.join(dest, f[len(prefix):]))
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copy2(os.path.join(self.context, f), target)
                    count += 1
                os.makedirs(layout.host(dest), exist_ok=True)
            else:
                target = layout.host(dest)
                if dest.endswith("/") or os.path.isdir(target):
                    target = os.path.join(target, os.path.basename(rel))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(os.path.join(self.context, rel), target)
                count += 1
        return count

    def from_stage_path(self, stage_label, container_path):
        """Host path of a file of another (already reproduced) stage, cargo outputs included."""
        layout = self.layouts.get(stage_label)
        if layout is None:
            return None
        target = self.container_targets.get(stage_label)
        if target and (container_path == target or container_path.startswith(target + "/")):
            return os.path.join(self.target_dir, os.path.relpath(container_path, target))
        return layout.host(container_path)

    def copy(self, stage, layout, workdir, variables, number, rest, build):
        flags, rest = split_flags(rest)
        for flag in flags:
            if flag not in ("from", "chown", "chmod", "link"):
                raise StageError(f"Dockerfile:{number}: COPY --{flag} is not supported by this check")
        args = [substitute(a, variables) for a in words(rest)]
        if len(args) < 2:
            raise StageError(f"Dockerfile:{number}: COPY needs a source and a destination")
        sources, dest = args[:-1], args[-1]
        dest_path = container_join(workdir, dest) + ("/" if dest.endswith("/") or len(sources) > 1 else "")
        if "from" in flags:
            source_stage = flags["from"]
            if source_stage.isdigit():
                source_stage = next((s.label() for s in self.stages if s.index == int(source_stage)), source_stage)
            if source_stage not in self.layouts:
                return f"COPY --from={flags['from']} (another image): not checked"
            missing = []
            for source in sources:
                host = self.from_stage_path(source_stage, container_join("/", source))
                if host is None or not glob.glob(host):
                    missing.append(source)
            if missing:
                raise StageError(f"Dockerfile:{number}: COPY --from={flags['from']}: "
                                 f"{', '.join(missing)} is not produced by stage {source_stage}")
            if build:
                for source in sources:
                    for host in glob.glob(self.from_stage_path(source_stage, container_join("/", source))):
                        target = layout.host(dest_path)
                        if dest_path.endswith("/") or os.path.isdir(target):
                            target = os.path.join(target, os.path.basename(host))
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        if os.path.isdir(host):
                            shutil.copytree(host, target, dirs_exist_ok=True)
                        else:
                            shutil.copy2(host, target)
            return f"COPY --from={flags['from']} {' '.join(sources)}: found"
        resolved = []
        for source in sources:
            resolved.extend(self.context_sources(source, number))
        if any(c in s for s in sources for c in "*?[") and not dest_path.endswith("/"):
            dest_path += "/"
        if not build:
            return f"COPY {' '.join(sources)}: in the build context"
        count = self.copy_from_context(layout, resolved, dest_path, number)
        return f"COPY {' '.join(sources)} -> {dest_path.rstrip('/') or '/'} ({count} file{'' if count == 1 else 's'})"

    # RUN
    @staticmethod
    def segments(command):
        """Splits a shell command on top-level && (outside quotes)."""
        parts, current, quote, i = [], "", None, 0
        while i < len(command):
            ch = command[i]
            if quote:
                current += ch
                if ch == quote:
                    quote = None
                elif ch == "\\" and quote == '"' and i + 1 < len(command):
                    current += command[i + 1]
                    i += 1
            elif ch in "'\"":
                quote = ch
                current += ch
            elif ch == "\\" and i + 1 < len(command):
                current += command[i:i + 2]
                i += 1
            elif command.startswith("&&", i):
                parts.append(current.strip())
                current = ""
                i += 1
            else:
                current += ch
            i += 1
        if quote:
            raise StageError(f"unbalanced quote in RUN: {command}")
        parts.append(current.strip())
        return [p for p in parts if p]

    SYSTEM = {"apt-get", "apt", "apk", "dpkg", "yum", "dnf", "microdnf", "groupadd", "useradd",
              "addgroup", "adduser", "update-ca-certificates", "ldconfig", "rustup"}
    FILE_OPS = {"mkdir", "touch", "echo", "printf", "rm", "cp", "mv", "ln", "true", ":", "chmod"}

    def run(self, stage, layout, workdir, variables, number, rest, env):
        flags, rest = split_flags(rest)
        if rest.startswith("["):
            command = " ".join(shlex.quote(w) for w in json.loads(rest))
        else:
            command = rest
        notes = []
        cwd = workdir
        for segment in self.segments(command):
            tokens = shlex.split(segment)
            while tokens and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0]):
                tokens = tokens[1:]
            if not tokens:
                continue
            program = tokens[0]
            if program == "cd":
                cwd = container_join(cwd, tokens[1] if len(tokens) > 1 else "/root")
                if not os.path.isdir(layout.host(cwd)):
                    raise StageError(f"Dockerfile:{number}: cd {tokens[1]}: no such folder in the stage")
                continue
            if program in self.SYSTEM:
                notes.append(f"skipped (system): {segment[:60]}")
                continue
            if program == "cargo":
                notes.append(self.cargo(stage, layout, cwd, tokens, number, env))
                continue
            if program in self.FILE_OPS:
                # Absolute paths (also right after a redirection: >/x) point into the stage's
                # layout, never at this machine's own files.
                absolute = re.findall(r"(?:(?<=^)|(?<=[\s>=<'\"]))(/[^\s'\";|&<>]*)", segment)
                outside = [t for t in absolute if not layout.in_tree(t)]
                if outside:
                    notes.append(f"skipped (outside the build tree: {outside[0]}): {segment[:60]}")
                    continue
                segment = re.sub(r"(?:(?<=^)|(?<=[\s>=<'\"]))(/[^\s'\";|&<>]*)",
                                 lambda m: layout.host(m.group(1)), segment)
                result = subprocess.run(["bash", "-c", segment], cwd=layout.host(cwd),
                                        capture_output=True, text=True)
                if result.returncode != 0:
                    raise StageError(f"Dockerfile:{number}: `{segment}` failed:\n{result.stderr}")
                continue
            raise StageError(f"Dockerfile:{number}: RUN `{segment}`: not understood by this check "
                             f"(teach scripts/dockerfile_stages.py what it does to the stage)")
        return notes

    def cargo(self, stage, layout, cwd, tokens, number, env):
        if any(t in ("|", ";", "||", ">", "<") for t in tokens):
            raise StageError(f"Dockerfile:{number}: a cargo command with shell operators is not supported")
        host_cwd = layout.host(cwd)
        if not os.path.isfile(os.path.join(host_cwd, "Cargo.toml")):
            # cargo would otherwise look in the parent folders and could find another workspace.
            raise StageError(f"Dockerfile:{number}: `{' '.join(tokens)}` runs in {cwd}, which holds no Cargo.toml")
        container_target = env.get("CARGO_TARGET_DIR") or container_join(cwd, "target")
        self.container_targets[stage.label()] = container_target
        # --offline is a global flag: after `cargo` (and after a +toolchain, if any).
        at = 2 if len(tokens) > 1 and tokens[1].startswith("+") else 1
        command = tokens[:at] + ["--offline"] + tokens[at:]
        run_env = dict(os.environ)
        run_env.update({k: v for k, v in env.items() if k not in ("PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME")})
        run_env["CARGO_TARGET_DIR"] = self.target_dir
        self.say(f"  Dockerfile:{number}: {' '.join(command)}  (in {cwd})")
        started = time.monotonic()
        result = subprocess.run(command, cwd=host_cwd, env=run_env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        elapsed = time.monotonic() - started
        if result.returncode != 0:
            tail = "\n".join(result.stdout.splitlines()[-30:])
            raise StageError(f"Dockerfile:{number}: stage {stage.label()}: `{' '.join(tokens)}` failed "
                             f"(exit {result.returncode}) in the stage's layout:\n{tail}")
        return f"{' '.join(tokens)}: ok ({elapsed:.0f} s)"

    def reproduce(self):
        instructions = parse_dockerfile(open(self.dockerfile, encoding="utf-8").read())
        self.stages, global_args = stages_of(instructions)
        builders = [s for s in self.stages if s.runs_cargo()]
        if not builders:
            raise StageError("no stage of the Dockerfile runs cargo")
        # Stages a builder starts FROM are reproduced too (their COPY and file operations).
        needed = set(s.label() for s in builders)
        for stage in reversed(self.stages):
            if stage.label() in needed and any(stage.base == s.label() for s in self.stages):
                needed.add(stage.base)
        for stage in self.stages:
            build = stage.label() in needed
            kind = "builder, reproduced" if build else "checked"
            self.say(f"stage {stage.label()} (FROM {stage.base}, Dockerfile:{stage.line}): {kind}")
            root = os.path.join(self.scratch, f"stage-{stage.index}")
            if os.path.exists(root):
                shutil.rmtree(root)
            if build and stage.base in self.layouts:
                shutil.copytree(self.layouts[stage.base].root, root, symlinks=True)
            layout = Layout(root)
            if build:
                self.layouts[stage.label()] = layout
                if stage.base in self.container_targets:
                    self.container_targets[stage.label()] = self.container_targets[stage.base]
            variables, env, workdir = dict(global_args), {}, "/"
            for number, keyword, rest in stage.instructions:
                if keyword == "WORKDIR":
                    workdir = container_join(workdir, substitute(rest, variables))
                    os.makedirs(layout.host(workdir), exist_ok=True)
                elif keyword == "ARG":
                    name, _, default = rest.partition("=")
                    variables.setdefault(name.strip(), substitute(default.strip().strip('"'), variables))
                elif keyword == "ENV":
                    for name, value in env_pairs(rest):
                        value = substitute(value, variables)
                        variables[name] = env[name] = value
                elif keyword in ("COPY", "ADD"):
                    if keyword == "ADD" and re.search(r"https?://|\.tar", rest):
                        raise StageError(f"Dockerfile:{number}: ADD of a URL or an archive is not supported")
                    self.say(f"  Dockerfile:{number}: " + self.copy(stage, layout, workdir, variables, number, rest, build))
                elif keyword == "RUN" and build:
                    for note in self.run(stage, layout, workdir, variables, number, rest, env):
                        self.say(f"  Dockerfile:{number}: {note}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dockerfile", default="Dockerfile")
    parser.add_argument("--context", default=".")
    parser.add_argument("--scratch", required=True, help="folder for the stages' layouts (emptied)")
    parser.add_argument("--target-dir", required=True, help="CARGO_TARGET_DIR, kept between runs")
    args = parser.parse_args()
    runner = Runner(args.dockerfile, args.context, args.scratch, args.target_dir)
    try:
        runner.reproduce()
    except StageError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
