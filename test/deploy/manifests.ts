// The Kubernetes manifests as the cluster would receive them: `kubectl kustomize` output, parsed
// the way the API server reads YAML, each object checked against the Kubernetes schemas
// (kubernetes-models, Prometheus Operator models for the ServiceMonitor) and typed by kind.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  type IServiceMonitor,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { type INetworkPolicy, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { type IPodDisruptionBudget, PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ConfigMap,
  type IConfigMap,
  type IContainer,
  type INamespace,
  type ISecret,
  type IService,
  Namespace,
  Secret,
  Service,
} from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

interface Kinds {
  Namespace: INamespace;
  ConfigMap: IConfigMap;
  Secret: ISecret;
  Service: IService;
  Deployment: IDeployment;
  HorizontalPodAutoscaler: IHorizontalPodAutoscaler;
  PodDisruptionBudget: IPodDisruptionBudget;
  NetworkPolicy: INetworkPolicy;
  ServiceMonitor: IServiceMonitor;
}
export type Kind = keyof Kinds;

/** apiVersion/kind → a model whose validate() throws on a schema violation. */
const MODELS: Record<string, (o: unknown) => { validate(): void }> = {
  'v1/Namespace': (o) => new Namespace(o as INamespace),
  'v1/ConfigMap': (o) => new ConfigMap(o as IConfigMap),
  'v1/Secret': (o) => new Secret(o as ISecret),
  'v1/Service': (o) => new Service(o as IService),
  'apps/v1/Deployment': (o) => new Deployment(o as IDeployment),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o as IHorizontalPodAutoscaler),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o as IPodDisruptionBudget),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o as INetworkPolicy),
  'monitoring.coreos.com/v1/ServiceMonitor': (o) => new ServiceMonitor(o as IServiceMonitor),
};

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

export class Rendered {
  readonly objects: RenderedObject[];

  constructor(objects: RenderedObject[]) {
    this.objects = objects;
  }

  /** Throws naming the object and the first schema violation; unknown kinds are violations too. */
  validateAll(): void {
    for (const o of this.objects) {
      const model = MODELS[`${o.apiVersion}/${o.kind}`];
      if (model === undefined)
        throw new Error(`${o.apiVersion} ${o.kind} ${o.metadata.name}: no schema to check it`);
      try {
        model(o).validate();
      } catch (err) {
        throw new Error(`${o.kind} ${o.metadata.name}: ${(err as Error).message}`);
      }
    }
  }

  all<K extends Kind>(kind: K): Kinds[K][] {
    return this.objects.filter((o) => o.kind === kind) as unknown as Kinds[K][];
  }

  /** The object of that kind whose name is `name` or, for generated ones, `name-<hash>`. */
  get<K extends Kind>(kind: K, name: string): Kinds[K] {
    const found = this.objects.filter(
      (o) =>
        o.kind === kind &&
        (o.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name)),
    );
    if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
    return found[0] as unknown as Kinds[K];
  }
}

/** `kubectl kustomize <dir>`, parsed as the API server does (YAML 1.1: 0440 is octal). */
export async function render(dir: string): Promise<Rendered> {
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', dir], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT')
      throw new Error('kubectl is not on the PATH: the deploy tests need kubectl >= 1.27');
    throw err;
  });
  const docs = parseAllDocuments(stdout, { version: '1.1' });
  const objects = (Array.isArray(docs) ? docs : [docs]).map((d) => {
    if (d.errors.length > 0) throw d.errors[0];
    return d.toJS() as RenderedObject;
  });
  return new Rendered(objects.filter((o) => o !== null));
}

/** Whether `selector` (matchLabels) picks a pod with `labels`. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A container port given by number or name, as a number. */
export function portNumber(container: IContainer, port: number | string): number {
  if (typeof port === 'number') return port;
  const found = container.ports?.find((p) => p.name === port);
  if (found === undefined) throw new Error(`container ${container.name} has no port named ${port}`);
  return found.containerPort;
}
