// The paths and names inside the initramfs that the builder writes and /init reads: one place, so the two sides cannot disagree.

/** The CA bundle curl verifies HTTPS against, made at build time from the ca-certificates package. */
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Every curl the image runs stays on HTTP(S): its libraries for the other protocols are stubs (STUBBED_LIBRARIES). */
export const CURL_PROTOCOL_ARGS = ['--proto', '=http,https', '--proto-redir', '=http,https'];

/** podman's storage root: a tmpfs, or the cache partition mounted there. */
export const CONTAINER_STORAGE = '/var/lib/containers';
/** Upstream's path of the cache, which farm lines name (`-v /container/tmp:/storage`): a link to the storage root. */
export const CACHE_PATH = '/storage';
/** Upstream's second name of the cache: a link to CACHE_PATH. */
export const CONTAINER_PATH = '/container';
/** The farm's scratch folder on the cache (or in RAM). */
export const SCRATCH_DIRECTORY = `${CONTAINER_PATH}/tmp`;
/** Where podman keeps images and containers, below the storage root. */
export const PODMAN_GRAPHROOT = `${CONTAINER_STORAGE}/storage`;
/** podman's state for the running boot: mounts of running containers live below it. */
export const PODMAN_RUNROOT = '/run/containers/storage';
/** containers.conf's `image_copy_tmp_dir = "storage"` puts pulls here, and podman does not create it. */
export const PODMAN_PULL_DIRECTORY = `${PODMAN_GRAPHROOT}/tmp`;

/** podman's storage configuration: the builder writes it, /init writes it again when b2c.storage names image stores. */
export const STORAGE_CONF = '/etc/containers/storage.conf';

/** Where /init mounts the read-only image stores of b2c.storage, one folder per b2c.filesystem name. */
export const IMAGE_STORES_DIRECTORY = '/run/b2c/stores';

export function storageConf(additionalImageStores: readonly string[] = []): string {
  const stores =
    additionalImageStores.length === 0
      ? ''
      : `\n[storage.options]\nadditionalimagestores = [${additionalImageStores.map((path) => JSON.stringify(path)).join(', ')}]\n`;
  return `[storage]
driver = "overlay"
graphroot = "${PODMAN_GRAPHROOT}"
runroot = "${PODMAN_RUNROOT}"
${stores}`;
}

/** The init's own scratch folder on a tmpfs: leases, downloads, keys on their way to a program. */
export const B2C_RUN_DIRECTORY = '/run/b2c';

/** The modules /init loads before coldplug, one name per line. */
export const BOOT_MODULES_LIST = '/etc/b2c/modules';
/** The kernel modules of the image, by kernel release. */
export const MODULES_ROOT = '/usr/lib/modules';
/**
 * Below a release's modules folder, each archive (the image, each add-on)
 * brings the index of its own modules in a folder of its own name, so that
 * archives unpacked in any order hide none of each other's; /init joins them
 * into the files modprobe reads.
 */
export const MODULE_INDEXES_FOLDER = 'b2c-indexes';
/**
 * Below a release's modules folder, the image lists the aliases of each
 * add-on's modules (`b2c-addon-aliases/NAME`, after a first line `# FILE`
 * that names the add-on's archive), so that a machine booted without an
 * add-on can say which one has the driver a device needs.
 */
export const ADDON_ALIASES_FOLDER = 'b2c-addon-aliases';
/** The index files busybox modprobe and /init read, text only. */
export const MODULE_INDEX_FILES = ['modules.dep', 'modules.alias', 'modules.softdep', 'modules.symbols'] as const;

/** What busybox udhcpc runs on each DHCP event: it writes the lease where `dhcpLeasePath` says. */
export const UDHCPC_SCRIPT = '/usr/share/b2c/udhcpc.script';

/** The lease of one interface as the udhcpc script writes it; `$interface` in the script is the same path for the shell. */
export function dhcpLeasePath(interfaceName: string): string {
  return `${B2C_RUN_DIRECTORY}/dhcp.${interfaceName}`;
}

/** Binary keymaps for busybox loadkmap: `/usr/share/b2c/keymaps/de.bmap`. */
export const KEYMAP_FOLDER = '/usr/share/b2c/keymaps';

/** The ciphers fscrypt asks the crypto API for that Debian's kernels build as modules: nothing loads them on demand in the image. */
export const FSCRYPT_MODULES = ['xts', 'cts'];

/** The host name of a machine whose command line names none, and of the image's /etc/hostname. */
export const DEFAULT_HOSTNAME = 'boot2container';
