// Offline validation of a kustomize base (tests/e2e/test_deploy.sh; docs/deploy.md, "Checking
// the artifacts"). Renders the base as `kubectl kustomize` does for the fields it uses
// (resources, configMapGenerator), checks every object against the Kubernetes OpenAPI schema
// (kubernetes-models' validators: types, enums, required fields, formats; and no field its
// declarations do not name), then trawl's own policy: what a reviewer would otherwise have to
// check by eye on every change.
//
//   node validate.mjs --modules DIR [--render] KUSTOMIZE_DIR
//     --modules DIR  where `npm ci` installed this directory's package.json (its node_modules)
//     --render       print the rendered objects as JSON (one array) and stop
// Prints one line per finding ("KIND/NAME: what is wrong") and exits 1 when there is one.
import { createHash } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import { join, basename, dirname } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const flag = (f) => { const i = args.indexOf(f); if (i < 0) return null; args.splice(i, 1); return true; };
const opt = (f) => { const i = args.indexOf(f); if (i < 0) return null; const v = args[i + 1]; args.splice(i, 2); return v; };
const modules = opt("--modules");
const renderOnly = flag("--render");
const base = args[0];
if (!modules || !base || args.length !== 1) {
  console.error("usage: node validate.mjs --modules DIR [--render] KUSTOMIZE_DIR");
  process.exit(2);
}
const mod = (p) => import(pathToFileURL(join(modules, "node_modules", p)).href);
const YAML = await mod("yaml/dist/index.js");

// ---- rendering: the subset of kustomize this base uses; anything else is refused by name.
const KUSTOMIZATION_FIELDS = new Set(["apiVersion", "kind", "resources", "configMapGenerator"]);
const GENERATOR_FIELDS = new Set(["name", "files", "literals"]);

function loadYaml(path) {
  // YAML 1.1, as Kubernetes reads it: `defaultMode: 0400` is octal (256), not 400.
  return YAML.parseAllDocuments(readFileSync(path, "utf8"), { version: "1.1" }).map((d) => {
    if (d.errors.length) throw new Error(`${path}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter((o) => o !== null);
}

// kustomize's name suffix (api/hasher): sha256 of the JSON of {data, kind, name} (keys sorted,
// as Go's encoding/json writes a map), its first 10 hex digits with 0 1 3 a e replaced so that
// the suffix never spells a word. kustomize 5 hashes the generated object before it names it:
// "name" is empty (found by comparing with `kubectl kustomize`, which test_deploy.sh does).
function configMapHash(data) {
  const name = "";
  const sorted = Object.fromEntries(Object.keys(data).sort().map((k) => [k, data[k]]));
  const json = JSON.stringify({ data: sorted, kind: "ConfigMap", name }).replace(/[<>&]/g,
    (c) => "\\u00" + c.charCodeAt(0).toString(16));
  const hex = createHash("sha256").update(json).digest("hex").slice(0, 10);
  return hex.replace(/[013ae]/g, (c) => ({ 0: "g", 1: "h", 3: "k", a: "m", e: "t" })[c]);
}

function render(dir) {
  const k = loadYaml(join(dir, "kustomization.yaml"))[0];
  for (const f of Object.keys(k))
    if (!KUSTOMIZATION_FIELDS.has(f))
      throw new Error(`kustomization.yaml: field ${f} is not understood by this renderer (deploy/kubernetes/validate/validate.mjs): extend it, or keep the base to resources and configMapGenerator`);
  const objs = [];
  for (const r of k.resources || []) objs.push(...loadYaml(join(dir, r)));
  const renamed = new Map();
  for (const g of k.configMapGenerator || []) {
    for (const f of Object.keys(g))
      if (!GENERATOR_FIELDS.has(f)) throw new Error(`configMapGenerator ${g.name}: field ${f} is not understood by this renderer`);
    const data = {};
    for (const f of g.files || []) data[basename(f)] = readFileSync(join(dir, f), "utf8");
    for (const l of g.literals || []) { const i = l.indexOf("="); data[l.slice(0, i)] = l.slice(i + 1); }
    const name = `${g.name}-${configMapHash(data)}`;
    renamed.set(g.name, name);
    objs.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });
  }
  // kustomize's name reference: the pod templates' configMap volumes follow the new name.
  for (const o of objs)
    for (const v of o.spec?.template?.spec?.volumes || [])
      if (v.configMap && renamed.has(v.configMap.name)) v.configMap.name = renamed.get(v.configMap.name);
  return objs;
}

// ---- schema validation: kubernetes-models' class for the object's apiVersion and kind.
async function schemaErrors(o) {
  const file = modelFile(o);
  if (!existsSync(join(modules, "node_modules", file))) return [`no schema for ${o.apiVersion} ${o.kind}`];
  const Model = (await mod(file))[o.kind];
  const errs = [];
  try {
    new Model(o).validate();
  } catch (e) {
    errs.push(...(e.errors || [e]).map((x) => `${x.instancePath || ""} ${x.message}`.trim()));
  }
  unknownFields(o, join(modules, "node_modules", file.replace(/\.js$/, ".d.ts")), "", errs);
  return errs;
}

// ---- unknown fields: kubernetes-models' schemas allow extra properties (a misspelt field would
// pass, and the API server drop it or refuse it), so every key is checked against the
// properties its type declares in the package's TypeScript declarations (.d.ts, generated from
// the same OpenAPI document): `export interface IName { "field"?: TYPE; ... }` and the imports
// that name each TYPE's file.
const declCache = new Map();
// The properties declared at indent in lines (from i on, until the block closes): name ->
// { target (a .d.ts file), isArray, inline (a nested declaration) }; null for a map type.
function properties(lines, i, indent, file, imports) {
  const d = new Map();
  const prop = new RegExp(`^ {${indent}}"([^"]+)"\\??: (.*)$`);
  const close = new RegExp(`^ {${indent - 4}}\\}`);
  for (; i < lines.length && !close.test(lines[i]); i++) {
    if (new RegExp(`^ {${indent}}\\[key: `).test(lines[i])) return { d: null, i };
    const m = prop.exec(lines[i]);
    if (!m) continue;
    const type = m[2];
    const ref = /^(Array<)?(I\w+)>?;$/.exec(type);
    const entry = { target: null, isArray: /^Array</.test(type), inline: null };
    if (ref && imports.has(ref[2])) {
      const spec = imports.get(ref[2]);
      entry.target = spec.startsWith(".") ? join(dirname(file), spec.replace(/\.js$/, "") + ".d.ts")
        : join(modules, "node_modules", spec + ".d.ts");
    } else if (/^(Array<)?\{$/.test(type)) {
      const r = properties(lines, i + 1, indent + 4, file, imports);
      entry.inline = r.d;
      i = r.i;
    }
    d.set(m[1], entry);
  }
  return { d, i };
}

function declaration(file) {
  if (declCache.has(file)) return declCache.get(file);
  let d = null;
  if (existsSync(file)) {
    const lines = readFileSync(file, "utf8").split("\n");
    const imports = new Map();
    for (const l of lines) { const m = /^import \{ (\w+) \} from "([^"]+)";$/.exec(l); if (m) imports.set(m[1], m[2]); }
    const start = lines.findIndex((l) => /^export interface I\w+(?: extends [\w, ]+)? \{$/.test(l));
    if (start >= 0) d = properties(lines, start + 1, 4, file, imports).d;
  }
  declCache.set(file, d);
  return d;
}

function unknownFields(value, decl, path, out) {
  const d = typeof decl === "string" ? declaration(decl) : decl;
  if (!d || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const p = d.get(k);
    if (!p) { out.push(`${path}/${k}: unknown field`); continue; }
    const next = p.target || p.inline;
    if (!next) continue;
    if (p.isArray && Array.isArray(v)) v.forEach((x, i) => unknownFields(x, next, `${path}/${k}/${i}`, out));
    else if (!p.isArray) unknownFields(v, next, `${path}/${k}`, out);
  }
}

function modelFile(o) {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : [null, o.apiVersion];
  return join("kubernetes-models", group ? `${group}/${version}` : version, `${o.kind}.js`);
}

// ---- trawl's policy (docs/deploy.md, "What the checks enforce").
const podSpec = (o) => o.spec?.template?.spec;

// searchers-dns names each searcher by its pod's reverse DNS: that needs the StatefulSet's own
// headless Service (its pods get hostnames under it), publishing not-ready pods (a restarting
// searcher stays in the set), on the port given.
function dnsErrors(services, sts, name, port) {
  const svc = services.find((o) => o.metadata.name === name);
  if (!svc) return [`no Service ${name}`];
  const errs = [];
  if (svc.spec.clusterIP !== "None") errs.push(`Service ${name} is not headless (clusterIP: None)`);
  if (svc.spec.publishNotReadyAddresses !== true) errs.push(`Service ${name} does not publish not-ready addresses`);
  if (sts && sts.spec.serviceName !== name) errs.push(`Service ${name} is not the StatefulSet's serviceName`);
  if (!(svc.spec.ports || []).some((p) => p.port === port)) errs.push(`Service ${name} has no port ${port}`);
  return errs;
}

function policyErrors(objs) {
  const errs = [];
  const say = (o, m) => errs.push(`${o.kind}/${o.metadata?.name}: ${m}`);
  const byKind = (k) => objs.filter((o) => o.kind === k);
  for (const o of objs) {
    if (o.metadata?.namespace) say(o, "a base sets no namespace (an overlay does)");
    if (o.metadata?.labels?.["app.kubernetes.io/name"] !== "trawl" && o.kind !== "ConfigMap")
      say(o, "no label app.kubernetes.io/name: trawl (the NetworkPolicies select it)");
    const ps = podSpec(o);
    if (!ps) continue;
    const psc = ps.securityContext || {};
    if (psc.runAsNonRoot !== true) say(o, "pod securityContext.runAsNonRoot is not true");
    if (psc.runAsUser !== 10001) say(o, "pod securityContext.runAsUser is not 10001 (the image's user)");
    if (psc.seccompProfile?.type !== "RuntimeDefault") say(o, "pod seccompProfile is not RuntimeDefault");
    if (ps.automountServiceAccountToken !== false) say(o, "automountServiceAccountToken is not false");
    if (ps.hostNetwork || ps.hostPID || ps.hostIPC) say(o, "uses a host namespace");
    // trawl is its own init as PID 1 (src/util/pid1.h): a shared PID namespace only lets a
    // pod's containers see (and, as one user, signal) each other's processes.
    if (ps.shareProcessNamespace) say(o, "shareProcessNamespace is set (containers would see each other's processes)");
    const vols = new Map((ps.volumes || []).map((v) => [v.name, v]));
    for (const c of [...(ps.initContainers || []), ...(ps.containers || [])]) {
      const at = `container ${c.name}`;
      const sc = c.securityContext || {};
      if (sc.readOnlyRootFilesystem !== true) say(o, `${at}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) say(o, `${at}: allowPrivilegeEscalation is not false`);
      if (sc.privileged) say(o, `${at}: privileged`);
      if (!(sc.capabilities?.drop || []).includes("ALL")) say(o, `${at}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add || []).length) say(o, `${at}: adds capabilities`);
      if (sc.runAsUser === 0 || sc.runAsNonRoot === false) say(o, `${at}: runs as root`);
      if (!/^[^:@\s]+(:[\w][\w.-]*)?(@sha256:[0-9a-f]{64})?$/.test(c.image || "") || !/[:@]/.test(c.image.replace(/^[^/]*\//, "")))
        say(o, `${at}: image ${c.image} has no tag or digest`);
      else if (/:latest(@|$)/.test(c.image)) say(o, `${at}: image ${c.image} is :latest`);
      const r = c.resources || {};
      for (const [kind, what] of [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]])
        if (!r[kind]?.[what]) say(o, `${at}: resources.${kind}.${what} is not set`);
      if (!c.livenessProbe?.httpGet || c.livenessProbe.httpGet.path !== "/healthz") say(o, `${at}: no livenessProbe GET /healthz`);
      if (!c.readinessProbe?.httpGet || c.readinessProbe.httpGet.path !== "/readyz") say(o, `${at}: no readinessProbe GET /readyz`);
      const mounts = c.volumeMounts || [];
      if (!mounts.some((m) => m.mountPath === "/tmp" && vols.get(m.name)?.emptyDir))
        say(o, `${at}: no emptyDir at /tmp (the root file system is read-only)`);
      for (const m of mounts)
        if (!vols.has(m.name) && !(o.spec.volumeClaimTemplates || []).some((t) => t.metadata.name === m.name))
          say(o, `${at}: mounts ${m.name}, which no volume or claim template defines`);
      const names = new Set((c.ports || []).map((p) => p.name));
      for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe])
        if (p?.httpGet && typeof p.httpGet.port === "string" && !names.has(p.httpGet.port))
          say(o, `${at}: a probe names port ${p.httpGet.port}, which the container does not declare`);
      if ((c.args || [])[0] !== "serve") say(o, `${at}: args do not start with serve`);
      // Every file an argument names is mounted, and every ConfigMap key mounted exists.
      for (const a of c.args || []) {
        const f = /^--[a-z-]+-file=(\/.+)$/.exec(a);
        if (f && !mounts.some((m) => m.mountPath === f[1] || (!m.subPath && f[1].startsWith(m.mountPath + "/"))))
          say(o, `${at}: ${a.split("=")[0]} names ${f[1]}, which no volumeMount provides`);
      }
      for (const m of mounts) {
        const cmName = vols.get(m.name)?.configMap?.name;
        const cm = cmName && objs.find((x) => x.kind === "ConfigMap" && x.metadata.name === cmName);
        if (cmName && !cm) say(o, `${at}: volume ${m.name} names ConfigMap ${cmName}, which the base does not make`);
        else if (cm && m.subPath && !(m.subPath in (cm.data || {})))
          say(o, `${at}: mounts key ${m.subPath} of ${cmName}, which has no such key`);
      }
      const role = (c.args || []).find((a) => a.startsWith("--role="));
      if (!role) say(o, `${at}: no --role= argument`);
      for (const a of c.args || [])
        if (/password|secret/i.test(a) && !/-file=\/run\/secrets\//.test(a)) say(o, `${at}: argument ${a} passes a secret by value (use a file from a Secret)`);
    }
  }
  // NetworkPolicy: one selecting every trawl pod that denies both directions.
  const deny = byKind("NetworkPolicy").find((p) =>
    p.spec.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "trawl" &&
    Object.keys(p.spec.podSelector.matchLabels).length === 1 &&
    ["Ingress", "Egress"].every((t) => (p.spec.policyTypes || []).includes(t)) &&
    !(p.spec.ingress || []).length && !(p.spec.egress || []).length);
  if (!deny) errs.push("NetworkPolicy: no default deny (ingress and egress) for app.kubernetes.io/name=trawl");
  for (const p of byKind("NetworkPolicy"))
    for (const rule of [...(p.spec.ingress || []), ...(p.spec.egress || [])])
      if (!(rule.ports || []).length) errs.push(`NetworkPolicy/${p.metadata.name}: a rule allows every port`);
  // Every Service and PodDisruptionBudget selects pods that some workload makes.
  const templates = objs.filter(podSpec).map((o) => o.spec.template.metadata?.labels || {});
  const matches = (sel) => templates.some((l) => Object.entries(sel || {}).every(([k, v]) => l[k] === v));
  for (const o of [...byKind("Service"), ...byKind("PodDisruptionBudget")]) {
    const sel = o.kind === "Service" ? o.spec.selector : o.spec.selector?.matchLabels;
    if (!sel || !matches(sel)) say(o, "its selector matches no pod template");
  }
  // The searcher set the frontends and indexers are told equals the StatefulSet.
  const sts = byKind("StatefulSet").find((o) => o.metadata.name === "trawl-searcher");
  if (!sts) errs.push("StatefulSet/trawl-searcher: missing");
  for (const cm of byKind("ConfigMap"))
    for (const [key, text] of Object.entries(cm.data || {})) {
      const count = /^searcher-count\s*=\s*(\d+)\s*$/m.exec(text);
      if (count && sts && Number(count[1]) !== sts.spec.replicas)
        say(cm, `${key}: searcher-count ${count[1]} is not the StatefulSet's ${sts.spec.replicas} replicas`);
      const dns = /^searchers-dns\s*=\s*([a-z0-9-]+)(?:\.[^:\s]*)?:(\d+)\s*$/m.exec(text);
      if (dns) for (const e of dnsErrors(byKind("Service"), sts, dns[1], Number(dns[2]))) say(cm, `${key}: searchers-dns: ${e}`);
      else if (/^searchers-dns\s*=/m.test(text)) say(cm, `${key}: searchers-dns is not SERVICE[.NAMESPACE...]:PORT`);
      for (const line of text.split("\n"))
        if (line.trim() && !line.startsWith("#") && !/^[a-z][a-z0-9-]*\s*=\s*\S/.test(line)) say(cm, `${key}: not a "key = value" line: ${line}`);
        else if (/^(data|help)\s*=/.test(line)) say(cm, `${key}: ${line.split("=")[0].trim()} cannot be set in trawl.conf`);
    }
  return errs;
}

try {
  const objs = render(base);
  if (renderOnly) {
    console.log(JSON.stringify(objs));
    process.exit(0);
  }
  const errs = [];
  for (const o of objs)
    for (const e of await schemaErrors(o)) errs.push(`${o.kind}/${o.metadata?.name}: schema: ${e}`);
  errs.push(...policyErrors(objs));
  for (const e of errs) console.log(e);
  console.error(`${objs.length} objects, ${errs.length} findings`);
  process.exit(errs.length ? 1 : 0);
} catch (e) {
  console.log(`error: ${e.message}`);
  process.exit(1);
}
