import { describe, expect, it } from 'vitest';
import { buildOciImage, buildOciIndex, sha256Digest } from '../../src/testbed/oci-image.ts';

const decode = (data: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(data));

describe('OCI images', () => {
  it('names the platform, with its variant, in the config', async () => {
    const image = await buildOciImage({ platform: { architecture: 'arm', variant: 'v7' }, entries: [{ path: 'bin/', kind: 'dir' }] });
    expect(decode(image.config.data)).toMatchObject({ architecture: 'arm', variant: 'v7', os: 'linux' });
    const plain = await buildOciImage({ platform: { architecture: 'amd64' }, entries: [{ path: 'bin/', kind: 'dir' }] });
    expect(decode(plain.config.data)).not.toHaveProperty('variant');
  });

  it('indexes each image by the digest and size of its manifest, under its platform', async () => {
    const entries = [{ path: 'hello', kind: 'file' as const, mode: 0o644, data: new TextEncoder().encode('hi') }];
    const amd64 = await buildOciImage({ platform: { architecture: 'amd64' }, entries });
    const arm = await buildOciImage({ platform: { architecture: 'arm', variant: 'v7' }, entries });
    const index = buildOciIndex([amd64, arm]);
    expect(index.index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.index.digest).toBe(sha256Digest(index.index.data));
    expect(decode(index.index.data)).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: amd64.manifest.digest,
          size: amd64.manifest.data.length,
          platform: { architecture: 'amd64', os: 'linux' },
        },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: arm.manifest.digest,
          size: arm.manifest.data.length,
          platform: { architecture: 'arm', os: 'linux', variant: 'v7' },
        },
      ],
    });
    // The same files on two platforms share the layer, not the config.
    expect(arm.layers[0]?.digest).toBe(amd64.layers[0]?.digest);
    expect(arm.config.digest).not.toBe(amd64.config.digest);
  });
});
