// The cuts made to reach the size and boot-time targets, each with what it saved when it landed: RESULTS.md lists them.

export interface Cut {
  cut: string;
  saved: string;
}

export const CUTS: Cut[] = [
  {
    cut: "xz's x86 branch filter (`--x86`) before LZMA2 for the amd64 archive; the kernel's decoder has it (CONFIG_XZ_DEC_X86)",
    saved:
      '0.9 MB of the xz archive (22.41 → 21.51 MB), measured on the same cpio; no time saved: /init started at 17.0 ' +
      's median against 16.0 s before (5 TCG boots each, spreads 15.9–17.9 and 13.7–19.3)',
  },
  {
    cut: 'Driver families kept to what farm machines have: ixgbe, atlantic, tg3, e1000, mmc/sdhci, ohci and vfat left out of the first selection',
    saved: '0.8 MB of the xz archive (29.7 → 28.9 MB), 4.5 MB unpacked (61 → 45 module files)',
  },
  {
    cut:
      'netavark (12.9 MB, a Rust binary) replaced by a 4-line script: podman 5 only checks that it exists unless a ' +
      'container asks for a network of its own, which b2c never gives; such a container now fails with a message ' +
      'that says so',
    saved: '3.3 MB of the xz archive (28.9 → 25.6 MB), 13.1 MB unpacked (109.0 → 95.9 MB)',
  },
  {
    cut: "xz dictionary of 64 MiB instead of preset 6's 8 MiB: the kernel's initramfs decoder allocates what the stream names, only while it unpacks",
    saved: '0.6 MB of the xz archive (25.60 → 24.97 MB), measured on the same cpio',
  },
  {
    cut:
      'Stubs for the libraries curl and podman link for features b2c never uses (librtmp, libldap, liblber, ' +
      'libgssapi_krb5, libssh2, libidn2, libpsl; libsubid, libgpgme): same soname, symbols and versions, functions ' +
      'that return 0, written by the build from the real library; GnuTLS, p11-kit, Nettle, GMP, Kerberos, SASL, ' +
      "libunistring, PAM, SELinux, audit and libgpg-error go with them. b2c's curl runs with --proto =http,https",
    saved: '3.5 MB of the xz archive (24,989,300 → 21,469,452 bytes), 12.8 MB unpacked (96.0 → 83.2 MB)',
  },
  {
    cut:
      "Stubs for libsystemd (crun's systemd cgroup manager and conmon's journald logs; the image uses cgroupfs and " +
      "k8s-file) and libpcre2-8 (GLib's GRegex, which conmon never calls)",
    saved: '0.56 MB of the xz archive (21,469,452 → 20,913,268 bytes), 1.8 MB unpacked (83.2 → 81.4 MB)',
  },
  {
    cut:
      "Debian's dynamically linked busybox instead of busybox-static (the same applets but telnetd; the image " +
      'carries libc anyway), and a stub for libbrotlidec (curl decodes brotli only with --compressed, which b2c ' +
      'never passes)',
    saved:
      '0.21 MB of the xz archive (20,913,268 → 20,704,592 bytes), 1.3 MB unpacked (81.4 → 80.1 MB). With the two ' +
      'stub cuts above, 15.9 MB less for the kernel to unpack: /init started at 15.56 s median against 20.20 s, QEMU ' +
      'exited at 30.62 s against 38.21 s (5 TCG boots each), and the smallest guest went from 288 to 256 MiB',
  },
  {
    cut:
      "A virtio RNG in every VM b2c runs (`virtio-rng-pci`; coldplug loads the image's `virtio_rng`): podman's first " +
      "start reads Go's crypto/rand, whose getrandom blocked until the guest kernel's CRNG was ready, which without " +
      'a hardware source took seconds of timer jitter under TCG',
    saved:
      "podman's first start, from its exec to its first log line, 3.85 → 0.94 s; its `podman run` of the trivial " +
      'container, from exec to output, 9.3 → 6.1 s (one boot each with --log-level=debug, console stamps); +20 kB ' +
      'unpacked',
  },
  {
    cut:
      'No podman cleanup (`container rm --all`, `image prune`) when the storage is in RAM: it goes with the machine. ' +
      'It still runs on a cache partition, and `container rm` when a volume on a b2c.filesystem is mounted',
    saved: 'the cleanup section, from the status line to the shutdown notice, 2.9 → 0.5 s (one boot each)',
  },
  {
    cut:
      "Coldplug reads the modalias of each bus's devices (/sys/bus/*/devices) and the CPU's instead of running " +
      'busybox find over all of /sys/devices, splits modules.alias on spaces instead of a regular expression ' +
      '(QuickJS runs it ten times slower), and reads the kernel release from /proc instead of running uname',
    saved:
      'the modules section 3.0 → 1.8 s: modules.alias parsed in 0.51 → 0.08 s, modaliases found in 0.50 → 0.05 s, ' +
      'the second pass 0.73 → 0.11 s (one boot each, stamps logged around each step)',
  },
];

/** What features cost when they came in, for the same accounting. */
export const ADDITIONS: Cut[] = [
  {
    cut:
      'curl (verified HTTPS for the extra arguments, later S3) and rdate (SNTP): curl brings OpenSSL (7.6 MB), and ' +
      'through librtmp, libldap and libgssapi GnuTLS, Kerberos, SASL and Berkeley DB, none of which b2c uses but the ' +
      'loader needs',
    saved: '+5.8 MB of the xz archive (21.5 → 27.3 MB), +20.6 MB unpacked',
  },
  {
    cut: 'Driver families for coldplug (virtio, network, storage, USB, filesystems: 45 module files)',
    saved: '+1.6 MB of the xz archive (27.3 → 28.9 MB), +9.4 MB unpacked',
  },
  {
    cut: "S3 volumes and fscrypt: the sync engine in the init bundle (curl, already there, is the S3 client), e2fsprogs' e4crypt and the xts and cts modules",
    saved: '+17 kB of the xz archive (24,974,408 → 24,991,692 bytes), +0.1 MB unpacked',
  },
];
