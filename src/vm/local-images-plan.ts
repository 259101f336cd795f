// `b2c run --image`, planned: which image each source names, the guest's registries.conf drop-in that sends those names to b2c run's own registry.

/** An image on the host that the guest gets under its own name, with no registry set up by the user. */
export type LocalImageSource =
  /** In the host's podman storage, by the name `podman images` shows. */
  | { kind: 'storage'; name: string }
  /** A `docker save` or `podman save` file, or an OCI archive; its name is the one it was saved under unless given. */
  | { kind: 'docker-archive' | 'oci-archive'; path: string; name?: string };

/** A name the guest can pull as it is: a registry part (a host, `localhost`) and a repository, with a tag or a digest. */
export function isQualifiedName(name: string): boolean {
  const first = name.split('/')[0] ?? '';
  return name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') && /^[a-z0-9][a-z0-9._:@/-]*$/i.test(name);
}

/** The name without its tag or digest: what registries.conf and the registry's repository go by. */
export function repositoryOf(name: string): string {
  const withoutDigest = name.split('@')[0] as string;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The name with its tag (`latest` when it has none), as podman pulls it. */
export function withTag(name: string): string {
  return repositoryOf(name) === name ? `${name}:latest` : name;
}

/** One `--image` value, or why it cannot be one. */
export function parseLocalImage(text: string): LocalImageSource | string {
  const archive = /^(docker-archive|oci-archive):([^:]+)(?::(.+))?$/.exec(text);
  if (archive !== null) {
    const name = archive[3];
    if (name !== undefined && !isQualifiedName(name)) return `${text}: ${name} is not a full image name, such as localhost/mesa-test:dev`;
    return { kind: archive[1] as 'docker-archive' | 'oci-archive', path: archive[2] as string, ...(name === undefined ? {} : { name }) };
  }
  if (/^[a-z-]+:\//.test(text) && !text.startsWith('localhost'))
    return `${text}: give an image of the host's podman storage, docker-archive:PATH or oci-archive:PATH`;
  if (!isQualifiedName(text)) {
    const local = `localhost/${text.replace(/^\/+/, '')}`;
    return `${text}: give the full name podman images shows (${local} for an image built here): the machine pulls names as they are`;
  }
  return { kind: 'storage', name: text };
}

/** The first name a `docker save` archive's manifest.json gives its image, if any. */
export function dockerArchiveName(manifestJson: string): string | undefined {
  const manifest = JSON.parse(manifestJson) as Array<{ RepoTags?: string[] | null }>;
  return manifest[0]?.RepoTags?.[0] ?? undefined;
}

/**
 * The guest's registries.conf drop-in: each image's repository is pulled from
 * b2c run's registry at `registry` (the forwarded address), over plain HTTP,
 * under the same path. The farm's line stays as it is.
 */
export function registriesDropIn(names: readonly string[], registry: string): string {
  const repositories = [...new Set(names.map(repositoryOf))];
  return repositories.map((repository) => `[[registry]]\nprefix = "${repository}"\nlocation = "${registry}/${repository}"\ninsecure = true\n`).join('\n');
}

/** An image of another architecture than the machine's, said with both, or undefined. */
export function architectureProblem(name: string, imageArchitecture: string, machineArchitecture: string): string | undefined {
  if (imageArchitecture === machineArchitecture) return undefined;
  const fixes = `build it with --platform linux/${machineArchitecture}, or boot --arch ${imageArchitecture}`;
  return `${name} is an ${imageArchitecture} image, and --arch boots an ${machineArchitecture} machine: ${fixes}`;
}

/** The digests of the blobs a docker-registry log shows uploaded whole (the PUT that ends an upload), in order. */
export function uploadedBlobs(registryLog: string): string[] {
  const digests: string[] = [];
  for (const line of registryLog.split('\n')) {
    if (!/msg="response completed"/.test(line) || !/http\.request\.method=PUT/.test(line) || !/http\.response\.status=201/.test(line)) continue;
    const digest = /\/blobs\/uploads\/[^ "]*[?&]digest=(sha256(?::|%3A)[0-9a-f]{64})/.exec(line)?.[1];
    if (digest !== undefined) digests.push(digest.replace('%3A', ':'));
  }
  return digests;
}
