// The plan of `b2c run --image`: which image each source names, and the registries.conf drop-in that sends those names to b2c run's registry.

import { describe, expect, it } from 'vitest';
import {
  architectureProblem,
  dockerArchiveName,
  parseLocalImage,
  registriesDropIn,
  repositoryOf,
  uploadedBlobs,
  withTag,
} from '../../src/vm/local-images-plan.ts';

describe('an --image value', () => {
  it('names an image of the host storage by its full name, or an archive with the name it was saved under or one given', () => {
    expect(parseLocalImage('localhost/mesa-test:dev')).toEqual({ kind: 'storage', name: 'localhost/mesa-test:dev' });
    expect(parseLocalImage('registry.freedesktop.org/mesa/mesa/test:1')).toEqual({ kind: 'storage', name: 'registry.freedesktop.org/mesa/mesa/test:1' });
    expect(parseLocalImage('docker-archive:/tmp/x.tar')).toEqual({ kind: 'docker-archive', path: '/tmp/x.tar' });
    expect(parseLocalImage('oci-archive:/tmp/x.tar:localhost/x:1')).toEqual({ kind: 'oci-archive', path: '/tmp/x.tar', name: 'localhost/x:1' });
  });

  it('refuses a short name, saying the full one podman shows, and another transport', () => {
    expect(parseLocalImage('mesa-test:dev')).toContain('localhost/mesa-test:dev');
    expect(parseLocalImage('docker://registry:5000/x:1')).toContain('docker-archive:PATH or oci-archive:PATH');
    expect(parseLocalImage('docker-archive:/tmp/x.tar:short')).toContain('is not a full image name');
  });
});

describe('names', () => {
  it('drop the tag or digest for the repository, and get latest when they have no tag', () => {
    expect(repositoryOf('localhost:5000/a/b:1')).toBe('localhost:5000/a/b');
    expect(repositoryOf('localhost/a@sha256:abcd')).toBe('localhost/a');
    expect(repositoryOf('localhost:5000/a')).toBe('localhost:5000/a');
    expect(withTag('localhost/a')).toBe('localhost/a:latest');
    expect(withTag('localhost/a:dev')).toBe('localhost/a:dev');
  });

  it("takes a docker-archive's first saved name", () => {
    expect(dockerArchiveName(JSON.stringify([{ Config: 'c.json', RepoTags: ['localhost/x:1', 'localhost/x:2'] }]))).toBe('localhost/x:1');
    expect(dockerArchiveName(JSON.stringify([{ Config: 'c.json', RepoTags: null }]))).toBeUndefined();
  });
});

describe("the guest's registries.conf drop-in", () => {
  it("sends each image's repository, once, to b2c run's registry under the same path, over plain HTTP", () => {
    expect(registriesDropIn(['localhost/a:1', 'localhost/a:2', 'docker.io/library/b:3'], '10.0.2.100:5375')).toBe(
      '[[registry]]\nprefix = "localhost/a"\nlocation = "10.0.2.100:5375/localhost/a"\ninsecure = true\n\n' +
        '[[registry]]\nprefix = "docker.io/library/b"\nlocation = "10.0.2.100:5375/docker.io/library/b"\ninsecure = true\n',
    );
  });
});

describe('an image of another architecture', () => {
  it('is named with both architectures and both ways out', () => {
    expect(architectureProblem('localhost/a:1', 'amd64', 'amd64')).toBeUndefined();
    expect(architectureProblem('localhost/a:1', 'arm64', 'amd64')).toBe(
      'localhost/a:1 is an arm64 image, and --arch boots an amd64 machine: build it with --platform linux/amd64, or boot --arch arm64',
    );
  });
});

describe("the registry's log", () => {
  it('gives the blobs whose upload ended, not those it only checked or answered with an error', () => {
    const digest = (c: string): string => `sha256:${c.repeat(64)}`;
    const line = (method: string, uri: string, status: number): string =>
      `time="x" level=info msg="response completed" http.request.method=${method} http.request.uri="${uri}" http.response.status=${status}`;
    const log = [
      line('HEAD', `/v2/localhost/a/blobs/${digest('a')}`, 200),
      line('PUT', `/v2/localhost/a/blobs/uploads/3f1c?_state=xyz&digest=${digest('b').replace(':', '%3A')}`, 201),
      line('PUT', `/v2/localhost/a/blobs/uploads/3f1d?digest=${digest('c')}`, 201),
      line('PUT', `/v2/localhost/a/blobs/uploads/3f1e?digest=${digest('d')}`, 400),
      line('PUT', '/v2/localhost/a/manifests/1', 201),
    ].join('\n');
    expect(uploadedBlobs(log)).toEqual([digest('b'), digest('c')]);
  });
});
