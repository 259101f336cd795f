// What goes into the image: Debian packages, programs, stubbed libraries, data files, kernel modules and busybox applets. The file people edit most.

import { FSCRYPT_MODULES } from '../image-layout.ts';

/** The Debian packages the image is made from. */
export const IMAGE_PACKAGES = ['busybox', 'quickjs', 'podman', 'crun', 'conmon', 'ca-certificates', 'e2fsprogs', 'curl', 'rdate'];

/** The programs taken into the image; their libraries and loader follow from their ELF headers. */
export const IMAGE_PROGRAMS = [
  '/usr/bin/busybox',
  '/usr/bin/qjs',
  '/usr/bin/podman',
  '/usr/bin/crun',
  '/usr/bin/conmon',
  // The cache partition: made and checked with e2fsprogs (busybox has neither for ext4).
  '/usr/sbin/mke2fs',
  '/usr/sbin/e2fsck',
  // fscrypt on the cache for volumes with fscrypt_key: 27 kB, and its libraries are mke2fs's.
  '/usr/sbin/e4crypt',
  // HTTPS that verifies certificates (extra arguments, S3), and the clock by SNTP: busybox has neither.
  '/usr/bin/curl',
  '/usr/sbin/rdate',
];

/**
 * Libraries the programs link for features b2c never uses. Each ships as a
 * stub with the same soname, symbols and versions (so the loader, which binds
 * everything at start for curl, is satisfied), whose functions return 0, or
 * -1 for those in `failing`; what the real one needs is left out with it.
 */
export interface StubbedLibrary {
  soname: string;
  failing?: string[];
  why: string;
}

export const STUBBED_LIBRARIES: StubbedLibrary[] = [
  { soname: 'librtmp.so.1', why: "curl's rtmp:// (b2c's curl runs with --proto =http,https); it alone brings GnuTLS, p11-kit, Nettle and GMP" },
  // curl's version string takes a 0 from ldap_get_option as an answer and reads the struct it would have filled.
  { soname: 'libldap.so.2', failing: ['ldap_get_option'], why: "curl's ldap://; brings SASL" },
  { soname: 'liblber.so.2', why: "curl's ldap://" },
  { soname: 'libgssapi_krb5.so.2', why: "curl's Kerberos and SPNEGO authentication, which b2c never asks for; brings the Kerberos libraries" },
  { soname: 'libssh2.so.1', why: "curl's scp:// and sftp://" },
  { soname: 'libidn2.so.0', why: "curl's host names beyond ASCII (such a name is refused: curl finds no IDN support); brings libunistring" },
  { soname: 'libpsl.so.5', why: "curl's cookie domain checks; b2c keeps no cookies" },
  { soname: 'libsubid.so.5', why: "podman's subordinate ids for rootless users; /init runs podman as root; brings PAM, SELinux, audit and libsemanage" },
  { soname: 'libgpgme.so.11', why: "podman's GPG image signatures; the image's policy.json accepts any image; brings libassuan and libgpg-error" },
  // There is no systemd in the image: a stub's 0 from sd_notify means "no NOTIFY_SOCKET", and connecting to
  // a bus or sending to a journal fails as it would with the real library and no systemd running.
  {
    soname: 'libsystemd.so.0',
    failing: [
      'sd_bus_default_system',
      'sd_bus_default_user',
      'sd_bus_open_system',
      'sd_bus_open_user',
      'sd_journal_sendv_with_location',
      'sd_journal_send_with_location',
      'sd_journal_sendv',
      'sd_journal_send',
    ],
    why: "crun's systemd cgroup manager and conmon's journald log driver: the image runs podman with cgroupfs and k8s-file logs",
  },
  { soname: 'libpcre2-8.so.0', why: "GLib's regular expressions (GRegex), which conmon never calls" },
  {
    soname: 'libbrotlidec.so.1',
    why: "curl's decoding of brotli responses, which it only asks for with --compressed, which b2c never passes; brings libbrotlicommon",
  },
];

/** Data files taken as the packages ship them. */
export const IMAGE_DATA_FILES = ['/etc/mke2fs.conf'];

/**
 * Driver families shipped with their dependencies, so that a farm machine's
 * NIC, disk and USB devices work without being named: /init loads what the
 * devices' modaliases match, BOOT_MODULES always, the rest on demand.
 */
export const MODULE_FAMILIES: Record<string, string[]> = {
  virtio: ['virtio_net', 'virtio_blk', 'virtio_scsi', 'virtio_pci', 'virtio_rng'],
  // The NICs of desks and farm racks: Intel and Realtek on board, the common USB adapters.
  network: ['e1000e', 'igb', 'igc', 'r8169', 'r8152', 'ax88179_178a', 'cdc_ether', 'asix'],
  // The cards of virtual machines and hypervisors a farm runs b2c in besides virtio: QEMU's and VMware's default e1000, QEMU's rtl8139.
  'virtual machines': ['e1000', '8139cp', '8139too'],
  // The PHYs of those MACs: without its PHY driver r8169 falls back to the generic PHY, which many RTL8111/8168/8125 do not work with.
  // A MAC's soft dependencies (softdep r8169 pre: realtek) come with it anyway; the PHYs are named for the kernel's mdio: aliases too.
  phys: ['realtek', 'broadcom'],
  // Disks: NVMe, SATA, USB sticks and drives.
  storage: ['nvme', 'ahci', 'sd_mod', 'usb_storage', 'uas'],
  // USB hosts: xHCI (with the Renesas uPD72020x loader), and the EHCI/OHCI pairs of older machines and boards.
  usb: ['xhci_pci', 'xhci_pci_renesas', 'ehci_pci', 'ohci_pci'],
  // ext4 asks the crypto API for crc32c when it mounts, not through modules.dep: ship it by name.
  filesystems: ['ext4', 'overlay', 'crc32c_generic'],
  // A cache disk on the farm gateway (b2c.nbd): 27 kB of xz.
  remote: ['nbd'],
  // fscrypt volumes: AES-XTS for contents, AES-CBC-CTS for names; Debian builds aes, cbc and ecb in.
  fscrypt: FSCRYPT_MODULES,
};
export const IMAGE_MODULES = Object.values(MODULE_FAMILIES).flat();
/** Modules of the families above that some architectures' kernels do not build (riscv64 has no rtl8139 or NE2000 drivers): skipped there. */
export const MODULES_SOME_KERNELS_LACK: readonly string[] = ['8139cp', '8139too', 'ne2k_pci'];

/**
 * The modules add-on (`b2c build --addons modules`), an archive a bootloader
 * loads after the initramfs: what only some farms need, kept out of the
 * archive every machine fetches.
 */
export const ADDON_MODULE_FAMILIES: Record<string, string[]> = {
  // Image stores and volumes on the farm gateway's NFSv4 shares (b2c.filesystem type=nfs): 0.9 MB of xz, 6.9 MB in RAM.
  nfs: ['nfsv4'],
  // NE2000 clones: only in old PCs and emulators, no farm machine of today.
  'old network cards': ['ne2k_pci'],
  // eMMC and SD cards on PCI SDHCI hosts (Chromebooks, small PCs) and UFS: 0.34 MB of xz that would take the amd64 image over 20 MiB.
  'emmc sd ufs': ['sdhci_pci', 'mmc_block', 'ufshcd_pci'],
};
export const ADDON_MODULES = Object.values(ADDON_MODULE_FAMILIES).flat();
/** Loaded by /init before coldplug: podman's storage needs overlay whatever the devices are. */
export const BOOT_MODULES = ['overlay'];

/** The busybox applets /init runs: a busybox without one of them is refused at build time. */
export const REQUIRED_APPLETS = [
  'sh',
  'mount',
  'umount',
  'modprobe',
  'udhcpc',
  'ip',
  'kill',
  'timeout',
  'uname',
  'sync',
  'rm',
  'nbd-client',
  'nslookup',
  'chmod',
  'blockdev',
  'fallocate',
  'mkswap',
  'swapon',
  'swapoff',
  'loadkmap',
  'poweroff',
  'reboot',
];
