// The configuration files the image needs: podman's (to run without systemd or pivot_root) and a minimal /etc.

import { DEFAULT_HOSTNAME, dhcpLeasePath, storageConf } from '../image-layout.ts';

export function containersConf(): string {
  return `# b2c: podman in an initramfs, as PID 1's child, with no systemd.
[containers]
netns = "host"
log_driver = "k8s-file"
# The initramfs has no /etc/localtime to share.
tz = ""
# Containers keep /init's keyring (the user session keyring), where the keys
# of fscrypt volumes are: a keyring of their own would not hold them.
keyring = false

[engine]
# pivot_root cannot leave an initramfs root: crun moves the root instead.
no_pivot_root = true
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
image_copy_tmp_dir = "storage"
`;
}

/** Images are pulled by name as given; unqualified names are not guessed against public registries. */
export function registriesConf(): string {
  return `unqualified-search-registries = []
short-name-mode = "disabled"
`;
}

export function policyJson(): string {
  return `${JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }, null, 2)}\n`;
}

/** The small /etc every tool in the image expects. */
export function etcFiles(): Record<string, string> {
  return {
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    'etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    'etc/hostname': `${DEFAULT_HOSTNAME}\n`,
    'etc/resolv.conf': '',
    'etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
    // getaddrinfo looks service names up here: rdate asks for "ntp", and fails without it.
    'etc/services': 'domain\t\t53/tcp\ndomain\t\t53/udp\nhttp\t\t80/tcp\nntp\t\t123/udp\nhttps\t\t443/tcp\n',
    'etc/containers/containers.conf': containersConf(),
    'etc/containers/storage.conf': storageConf(),
    'etc/containers/registries.conf': registriesConf(),
    'etc/containers/policy.json': policyJson(),
  };
}

/**
 * What busybox udhcpc runs on each DHCP event: it only writes the lease down;
 * /init reads it and configures the interface itself.
 */
export function udhcpcScript(): string {
  return `#!/bin/sh
# b2c: record the DHCP lease for /init; never configure anything here.
case "$1" in
  bound|renew)
    {
      echo "interface=$interface"
      echo "ip=$ip"
      echo "subnet=$subnet"
      echo "mask=$mask"
      echo "router=$router"
      echo "dns=$dns"
      echo "domain=$domain"
      echo "lease=$lease"
    } > "${dhcpLeasePath('$interface')}"
    ;;
esac
exit 0
`;
}

/**
 * What stands at podman's netavark path. podman 5 refuses to start unless a
 * netavark binary is there, but runs it only to set up container networks,
 * which b2c never uses (every step gets --network=host): the real one is
 * 12.9 MB unpacked, 3.3 MB of the xz archive. Should anything still run it,
 * it gets this error, which podman shows.
 */
export function netavarkStub(): string {
  // netavark reports errors to podman as JSON on its standard output.
  return `#!/bin/sh
# b2c: podman needs a netavark here, and b2c needs none.
echo '{"error": "b2c runs containers on the network of the machine only: drop --network, or use --network=host"}'
exit 1
`;
}
