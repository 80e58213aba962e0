// Runs the wasmship packager component under Node.js, with jco and the WASI 0.2 shim
// (@bytecodealliance/preview2-shim), the way the native `wasmship` runner runs it:
//
//   node examples/node/wasmship.mjs [--component FILE] COMMAND [ARGS...]
//
// The component (FILE, else $WASMSHIP_COMPONENT, else this repository's build at
// target/guest/wasm32-wasip2/guest/wasmship.wasm) is transpiled once into .transpiled/<digest>/
// beside this script. Each run first asks the packager what the command needs
// (`wasmship:packager/plan`, one instance granted the working directory), then runs the
// command in a second instance granted the directories the plan names, each under its
// absolute host path, with the environment the CLI reads (src/host_contract.rs).
//
// What this host cannot do that the runner does: grant a directory read-only, vouch that a
// directory is the user's own (so it does not set WASMSHIP_RUNNER, and the cache hashes
// instead of trusting seals or hard-linking), limit outgoing requests to the planned
// registries, or hand over Docker credential-helper answers (credentials come from flags,
// WASH_REG_USER/WASH_REG_PASSWORD and the other variables the CLI reads).
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync,
  statfsSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

import { transpile } from "@bytecodealliance/jco";
import {
  _setArgs, _setCwd, _setEnv, _setTerminalStderr, _setTerminalStdin, _setTerminalStdout,
} from "@bytecodealliance/preview2-shim/cli";
import { _setPreopens, types } from "@bytecodealliance/preview2-shim/filesystem";

const HERE = dirname(fileURLToPath(import.meta.url));

// The host variables the component sees (host_contract::PASSED): exact names, or prefixes.
const PASSED = [
  "WASMSHIP_*", "WASH_*", "WKG_*", "SOURCE_DATE_EPOCH", "COSIGN_PASSWORD", "NO_COLOR",
  "DOCKER_CONFIG", "HOME", "USER", "TMPDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
];
// Variables only a host sets (host_contract::RUNNER_SET): inherited values never pass.
const HOST_SET = [
  "WASMSHIP_RUNNER", "WASMSHIP_PLANNED", "WASMSHIP_CWD", "WASMSHIP_HOST_TARGET",
  "WASMSHIP_DOCKER_CONFIG_JSON", "WASMSHIP_HOST_CREDENTIALS", "WASMSHIP_PROJECT_CREDENTIALS_JSON",
  "WASMSHIP_FREE_SPACE", "WASMSHIP_RUN_ID",
];
const passed = (name) =>
  !HOST_SET.includes(name) &&
  PASSED.some((rule) => (rule.endsWith("*") ? name.startsWith(rule.slice(0, -1)) : name === rule));

let argv = process.argv.slice(2);
let componentPath = process.env.WASMSHIP_COMPONENT ||
  join(HERE, "../../target/guest/wasm32-wasip2/guest/wasmship.wasm");
if (argv[0] === "--component") {
  componentPath = argv[1];
  argv = argv.slice(2);
} else if (argv[0]?.startsWith("--component=")) {
  componentPath = argv[0].slice("--component=".length);
  argv = argv.slice(1);
}

// The component transpiled to JavaScript, once per content: a new build gets a new directory.
async function transpiled(path) {
  const bytes = readFileSync(path);
  const digest = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const dir = join(HERE, ".transpiled", digest);
  if (!existsSync(join(dir, "wasmship.js"))) {
    const { files } = await transpile(bytes, { name: "wasmship", quiet: true, noTypescript: true });
    // Written whole under a temporary name, then renamed into place.
    const tmp = `${dir}.${process.pid}.tmp`;
    mkdirSync(tmp, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(dirname(join(tmp, name)), { recursive: true });
      writeFileSync(join(tmp, name), content);
    }
    writeFileSync(join(tmp, "package.json"), '{"type":"module"}\n');
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, "wasmship.js"))) throw e;
    }
  }
  return pathToFileURL(join(dir, "wasmship.js")).href;
}

const cwd = realpathSync(process.cwd());
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => passed(name)));
env.WASMSHIP_CWD = cwd;
env.WASMSHIP_RUN_ID = randomBytes(8).toString("hex");
// The host platform as wash names provider targets (`x86_64-linux`).
const ARCH = { x64: "x86_64", arm64: "aarch64", ia32: "x86", arm: "arm" };
const OS = { darwin: "macos", win32: "windows" };
env.WASMSHIP_HOST_TARGET = `${ARCH[process.arch] ?? process.arch}-${OS[process.platform] ?? process.platform}`;
_setArgs(["wasmship", ...argv]);
_setCwd(cwd);
// The shim calls every stream a terminal; say so only of real ones (progress goes to terminals).
if (!process.stdin.isTTY) _setTerminalStdin(undefined);
if (!process.stdout.isTTY) _setTerminalStdout(undefined);
if (!process.stderr.isTTY) _setTerminalStderr(undefined);

// Two answers of the shim (0.26.1) differ from WASI 0.2 as Wasmtime implements it:
// - wasi-libc asks for `mutate-directory` on every open-at for writing, files included
//   (libc-bottom-half/cloudlibc/src/libc/fcntl/openat.c); Wasmtime ignores the flag on files,
//   the shim refuses it (`unsupported`, os error 58). On a file it grants nothing: dropped.
// - `set-times` hands futimes milliseconds where it takes seconds (files dated centuries ahead,
//   so the cache's seals, use times and prune ages are wrong). Each side is given as a
//   timestamp whose milliseconds, as the shim computes them, are the seconds futimes needs.
{
  const proto = types.Descriptor.prototype;
  const openAt = proto.openAt;
  proto.openAt = function (pathFlags, path, openFlags, descriptorFlags) {
    if (descriptorFlags.mutateDirectory && !openFlags.directory) {
      descriptorFlags = { ...descriptorFlags, mutateDirectory: false };
    }
    return openAt.call(this, pathFlags, path, openFlags, descriptorFlags);
  };
  const setTimes = proto.setTimes;
  const asSeconds = (t) => ({
    tag: "timestamp",
    val: { seconds: 0n, nanoseconds: Number(t.seconds) * 1e6 + t.nanoseconds / 1e3 },
  });
  proto.setTimes = function (access, modification) {
    const now = access.tag === "no-change" || modification.tag === "no-change" ? this.stat() : undefined;
    const side = (t, current) => (t.tag === "now" ? t : asSeconds(t.tag === "timestamp" ? t.val : current));
    return setTimes.call(this, side(access, now?.dataAccessTimestamp), side(modification, now?.dataModificationTimestamp));
  };
}

const componentUrl = await transpiled(componentPath);
// Each import under another URL is a fresh instance (wasi-libc keeps the preopens it saw first,
// so planning and running need separate ones).
const instance = (phase) => import(`${componentUrl}?${phase}`);

// The directory that grants a planned path (as runner/src/sandbox.rs), created when the plan
// says so; undefined when the command can do without a missing one.
function directoryFor(grant) {
  const isDir = (p) => existsSync(p) && statSync(p).isDirectory();
  const dir = grant.kind === "directory" || (grant.kind === "file-or-directory" && isDir(grant.path))
    ? grant.path
    : dirname(grant.path);
  if (isDir(dir)) {
    if (grant.guard === "owner-only") ownerOnly(dir, grant.purpose);
    return dir;
  }
  if (existsSync(dir)) throw new Error(`${grant.purpose}: ${dir} is not a directory`);
  if (grant.ifMissing === "skip") return undefined;
  if (grant.ifMissing === "create") {
    mkdirSync(dir, { recursive: true, mode: grant.guard === "owner-only" ? 0o700 : 0o777 });
    return dir;
  }
  throw new Error(`${grant.purpose}: the directory ${dir} does not exist`);
}

// An owner-only directory must be the user's own: not a symbolic link, not writable by others.
function ownerOnly(dir, purpose) {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new Error(`${purpose}: ${dir} is a symbolic link`);
  if (st.uid !== process.getuid()) throw new Error(`${purpose}: ${dir} belongs to another user`);
  if ((st.mode & 0o022) !== 0) throw new Error(`${purpose}: ${dir} is writable by group or others`);
}

const grant = (dirs) => _setPreopens(Object.fromEntries(dirs.map((dir) => [dir, dir])));

// Planning reads project files in the working directory, then maybe the directories it names
// in `consult` (two rounds, as the runner).
_setEnv(env);
const planner = await instance("plan");
let readable = [cwd];
let grants;
for (let round = 0; round < 2; round++) {
  grant(readable);
  try {
    grants = planner.plan.capabilities(argv, Object.entries(env));
  } catch {
    // Not plannable (a usage error): run with nothing granted; the command says why.
    grants = undefined;
    break;
  }
  const more = grants.consult.filter((d) => isAbsolute(d) && existsSync(d) && !readable.includes(d));
  if (more.length === 0) break;
  readable = [...readable, ...more];
}

let dirs = [];
let privateFiles = [];
if (grants) {
  // Files made in owner-only directories, and private files, are the user's alone.
  if (grants.paths.some((g) => g.guard === "owner-only" || g.guard === "private-file")) process.umask(0o077);
  privateFiles = grants.paths.filter((g) => g.guard === "private-file").map((g) => g.path);
  try {
    dirs = [...new Set(grants.paths.map(directoryFor).filter((d) => d !== undefined))];
  } catch (e) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  }
  env.WASMSHIP_PLANNED = "1";
  const free = {};
  for (const dir of dirs) {
    try {
      const st = statfsSync(dir);
      free[dir] = st.bavail * st.bsize;
    } catch {
      // Unknown: the packager checks nothing up front for it.
    }
  }
  env.WASMSHIP_FREE_SPACE = JSON.stringify(free);
}
_setEnv(env);
grant(dirs);
if (process.env.WASMSHIP_DEBUG) process.stderr.write(`wasmship (node): granted ${dirs.join(", ") || "nothing"}\n`);

const component = await instance("run");
try {
  component.run.run();
  for (const file of privateFiles) if (existsSync(file)) chmodSync(file, 0o600);
} catch (e) {
  // `wasi:cli/run` returned an error: the command has said why on stderr.
  if (e?.constructor?.name === "ComponentError") process.exit(1);
  throw e;
}
