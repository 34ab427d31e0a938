// Validates custom resources against the JSON Schemas generated from the operators' own CRDs
// (@kubernetes-models/keda, @kubernetes-models/prometheus-operator).
// Usage: node validate_crds.mjs <node_modules> < objects.json
// Prints a JSON list of {kind, name, error}; error is null for a valid object.
import { readFileSync } from "node:fs";

const modules = process.argv[2];
const models = {
  "keda.sh/v1alpha1/ScaledObject": "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject.js",
  "keda.sh/v1alpha1/TriggerAuthentication": "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication.js",
  "monitoring.coreos.com/v1/ServiceMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.js",
  "monitoring.coreos.com/v1/PrometheusRule": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule.js",
};
const objects = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const object of objects) {
  const key = `${object.apiVersion}/${object.kind}`;
  const name = object.metadata?.name ?? "";
  if (!(key in models)) {
    results.push({ kind: key, name, error: "no schema for this kind" });
    continue;
  }
  const module = await import(`${modules}/${models[key]}`);
  try {
    new module[object.kind](object).validate();
    results.push({ kind: key, name, error: null });
  } catch (err) {
    results.push({ kind: key, name, error: String(err.message ?? err) });
  }
}
process.stdout.write(JSON.stringify(results));
