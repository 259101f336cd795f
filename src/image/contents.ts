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
  // The cards of virtual machines and hypervisors a farm runs b2c in besides virtio: QEMU's and VMware's default e1000, QEMU's rtl8139 (a C+ chip).
  'virtual machines': ['e1000', '8139cp'],
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

/**
 * What each architecture's machines need beyond the families above: for the
 * boards, the SoC glue a MAC, an SD host or a USB port waits for (its clocks,
 * regulators, resets, GPIOs, PHYs of USB and PCIe, the PMIC on its I2C or SPI
 * bus); a driver that is missing leaves the device deferred with no error.
 * Checked against each board's device tree (`of:` aliases) in Debian's 6.12.
 */
export const ARCHITECTURE_MODULE_FAMILIES: Record<string, Record<string, string[]>> = {
  amd64: {
    // crc32c for ext4 with SSE4.2; NVMe behind Intel VMD (recent Intel laptops) is invisible without vmd; UHCI is Intel's USB 1.1 host.
    pc: ['crc32c_intel', 'vmd', 'uhci_hcd'],
  },
  arm64: {
    // Fixed and GPIO regulators (modules here) supply nearly every SD card, PHY and USB port; platform USB hosts, DWC2/DWC3, SATA, SDHCI.
    boards: ['fixed', 'gpio_regulator', 'xhci_plat_hcd', 'ehci_platform', 'ohci_platform', 'dwc2', 'dwc3', 'dwc3_of_simple', 'phy_generic'],
    // On-board USB hubs' power and reset (Odroid-N2, Pi 3B+), platform SATA and SDHCI.
    'board disks': ['onboard_usb_dev', 'ahci_platform', 'sdhci_pltfm', 'sdhci_of_arasan'],
    // The PHYs of boards' MACs: Motorcomm YT8521/8531 (VisionFive 2, Orange Pi), Atheros AR803x, Micrel KSZ9031, SMSC LAN87xx, TI DP838xx, Marvell.
    'board phys': ['motorcomm', 'marvell', 'at803x', 'micrel', 'smsc', 'dp83867', 'dp83822'],
    // Raspberry Pi 4/400/CM4: GENET + UniMAC MDIO, EMMC2; the VL805 behind PCIe (the USB-A ports) needs the firmware reset. Pi 3: sdhost, LAN95xx/LAN78xx.
    'raspberry pi': ['genet', 'mdio_bcm_unimac', 'sdhci_iproc', 'bcm2835', 'reset_raspberrypi', 'smsc95xx', 'lan78xx'],
    // RK3399/RK3568/RK3588 (Rock Pi, RockPro64, Rock 5B, Orange Pi 5): GMAC, GPIOs (a module here), the PMIC on I2C or SPI,
    // SD/eMMC and their PHYs, USB and PCIe PHYs.
    rockchip: [
      'dwmac_rk',
      'gpio_rockchip',
      'i2c_rk3x',
      'spi_rockchip',
      'rk808_regulator',
      'io_domain',
      'dw_mmc_rockchip',
      'sdhci_of_dwcmshc',
      'phy_rockchip_emmc',
      'phy_rockchip_inno_usb2',
      'phy_rockchip_typec',
      'phy_rockchip_usbdp',
      'phy_rockchip_pcie',
      'phy_rockchip_naneng_combphy',
      'phy_rockchip_snps_pcie3',
    ],
    // i.MX8M Mini/Nano/Plus: FEC and EQOS, uSDHC, ChipIdea and DWC3 USB with their PHYs, the BD718x7/PCA9450 PMICs, the PCIe PHY.
    // Both MACs read their address from the OCOTP fuses (nvmem-cells), and the kernel holds their probe until the fuses' driver is there.
    imx8m: [
      'fec',
      'dwmac_imx',
      'nvmem_imx_ocotp',
      'sdhci_esdhc_imx',
      'dwc3_imx8mp',
      'phy_fsl_imx8mq_usb',
      'ci_hdrc_imx',
      'usbmisc_imx',
      'i2c_imx',
      'bd718x7_regulator',
      'pca9450_regulator',
      'pfuze100_regulator',
      'reset_imx7',
      'phy_fsl_imx8m_pcie',
    ],
    // Amlogic GXL/G12/SM1 (Libre Computer, Odroid-N2/C4, Khadas VIM3): DWMAC, the MDIO mux and internal PHY, SD/eMMC, USB glue and PHY.
    amlogic: ['dwmac_meson8b', 'mdio_mux_meson_g12a', 'mdio_mux_meson_gxl', 'meson_gxl', 'meson_gx_mmc', 'dwc3_meson_g12a', 'phy_meson8b_usb2'],
    // Allwinner A64/H5/H6/H616 (Pine64, Orange Pi Zero 2/3): EMAC, SD, USB PHY, the AXP PMIC on RSB or I2C that supplies SD and PHY.
    allwinner: ['dwmac_sun8i', 'sunxi_mmc', 'phy_sun4i_usb', 'axp20x_rsb', 'axp20x_i2c', 'axp20x_regulator', 'i2c_mv64xxx'],
    // TI AM62/AM64/J721E (BeaglePlay, BeagleBone AI-64): CPSW, its MDIO and mode select, SDHCI, USB glue and SerDes.
    'ti k3': ['ti_am65_cpsw_nuss', 'davinci_mdio', 'phy_gmii_sel', 'sdhci_am654', 'dwc3_am62', 'cdns3', 'cdns3_ti', 'phy_j721e_wiz', 'phy_cadence_torrent'],
    // Jetson Nano/TX1 (Ethernet is an RTL8111 on PCIe): SD, xHCI and its pad controller, the PMIC's regulators.
    tegra: ['sdhci_tegra', 'xhci_tegra', 'phy_tegra_xusb', 'max77620_regulator'],
    // Qualcomm DB410c/DB845c/RB5, SC7180/SC7280: SDHCI, UFS, USB glue and PHYs (not the QMP combo PHY, which brings the display stack), PMIC regulators.
    qualcomm: [
      'dwmac_qcom_ethqos',
      'sdhci_msm',
      'ufs_qcom',
      'dwc3_qcom',
      'phy_qcom_qusb2',
      'phy_qcom_snps_femto_v2',
      'phy_qcom_qmp_usb',
      'phy_qcom_qmp_pcie',
      'phy_qcom_qmp_ufs',
      'qcom_spmi_pmic',
      'qcom_rpmh_regulator',
      'qcom_spmi_regulator',
      'qcom_smd_regulator',
      'rpmpd',
      'ci_hdrc_msm',
      'phy_qcom_usb_hs',
      'usb3503',
      'extcon_usb_gpio',
      'gcc_sm8150',
      'gcc_sm8250',
      'pinctrl_sm8250',
    ],
  },
  riscv64: {
    // Here MMC and the fixed regulator are modules (built in on arm64); platform USB hosts and SDHCI.
    boards: ['mmc_block', 'pwrseq_simple', 'pwrseq_emmc', 'fixed', 'xhci_plat_hcd', 'ehci_platform', 'ohci_platform', 'phy_generic', 'sdhci_pltfm'],
    // Motorcomm YT8531 (VisionFive 2), Micrel, Microsemi VSC8541 (HiFive Unmatched).
    'board phys': ['motorcomm', 'micrel', 'mscc'],
    // VisionFive 2, Milk-V Mars, Star64 (JH7110): GMAC and its AON clocks, the STG clocks of PCIe and USB, SD, the AXP15060 on I2C, USB and PCIe PHYs.
    starfive: [
      'dwmac_starfive',
      'clk_starfive_jh7110_aon',
      'clk_starfive_jh7110_stg',
      'dw_mmc_starfive',
      'i2c_designware_platform',
      'axp20x_i2c',
      'axp20x_regulator',
      'phy_jh7110_usb',
      'phy_jh7110_pcie',
      'cdns3',
      'cdns3_starfive',
    ],
    // HiFive Unmatched, PolarFire Icicle: Cadence GEM, SD over SPI or Cadence SDHCI.
    'sifive microchip': ['macb', 'spi_sifive', 'mmc_spi', 'sdhci_cadence'],
    // Allwinner D1 (Nezha): EMAC, SD, USB PHY.
    allwinner: ['dwmac_sun8i', 'sunxi_mmc', 'phy_sun4i_usb'],
    // T-Head TH1520 and Sophgo boards: SD and eMMC only (their 6.12 device trees have no Ethernet).
    'thead sophgo': ['sdhci_of_dwcmshc', 'gpio_dwapb'],
  },
  armhf: {
    // Platform USB hosts, DWC2/DWC3, SATA, SDHCI, GPIO regulators.
    boards: [
      'gpio_regulator',
      'xhci_plat_hcd',
      'ehci_platform',
      'ohci_platform',
      'dwc2',
      'dwc3',
      'dwc3_of_simple',
      'phy_generic',
      'ahci_platform',
      'sdhci_pltfm',
    ],
    // SMSC LAN8710A (BeagleBone), Atheros AR803x (Wandboard), Micrel (SabreLite, Lime2), TI DP838xx, Marvell.
    'board phys': ['marvell', 'at803x', 'micrel', 'smsc', 'dp83867', 'dp83822', 'dp83848'],
    // Raspberry Pi 2/3 in 32 bits: sdhost, SDHCI, LAN95xx/LAN78xx (armhf builds no GENET: a Pi 4 has no wired Ethernet here).
    'raspberry pi': ['bcm2835', 'sdhci_iproc', 'smsc95xx', 'lan78xx'],
    // BeagleBone Black, AM57xx: CPSW, its MDIO and mode select, SDHCI, MUSB and DWC3 with their PHYs and DMA, the SD I/O rail.
    'ti omap': [
      'ti_cpsw_new',
      'ti_cpsw',
      'davinci_mdio',
      'phy_gmii_sel',
      'sdhci_omap',
      'musb_dsps',
      'phy_am335x',
      'cppi41',
      'dwc3_omap',
      'phy_omap_usb2',
      'omap_ocp2scp',
      'pbias_regulator',
    ],
    // Allwinner H3/A20 (Orange Pi PC/One, NanoPi NEO, Bananapi, Lime2): EMAC, GMAC, 10/100 EMAC and MDIO, SD, USB PHY, AXP regulators.
    allwinner: ['dwmac_sun8i', 'dwmac_sunxi', 'sun4i_emac', 'mdio_sun4i', 'sunxi_mmc', 'phy_sun4i_usb', 'axp20x_regulator', 'i2c_mv64xxx'],
    // i.MX6 (SabreLite, Wandboard, Hummingboard): FEC and the OCOTP fuses with its MAC address, uSDHC, GPIOs (a module here), ChipIdea USB and
    // PHY, the anatop and PFUZE regulators.
    imx6: [
      'fec',
      'nvmem_imx_ocotp',
      'sdhci_esdhc_imx',
      'gpio_mxc',
      'ci_hdrc_imx',
      'usbmisc_imx',
      'phy_mxs_usb',
      'anatop_regulator',
      'i2c_imx',
      'pfuze100_regulator',
    ],
    // RK3288 (Tinker Board, veyron Chromebooks): GMAC, SD, the RK808's I2C and regulators, USB PHY.
    rockchip: ['dwmac_rk', 'dw_mmc_rockchip', 'i2c_rk3x', 'rk808_regulator', 'phy_rockchip_usb', 'io_domain'],
    // Odroid-XU3/XU4/HC1 (Ethernet is an RTL8153): SD, DWC3 and EHCI/OHCI with their PHYs, the S2MPS11 PMIC on HSI2C.
    exynos: ['dw_mmc_exynos', 'dwc3_exynos', 'phy_exynos5_usbdrd', 'phy_exynos_usb2', 'ehci_exynos', 'ohci_exynos', 'i2c_exynos5', 's2mps11', 'clk_s2mps11'],
    // Jetson TK1, Nyan Chromebooks (Ethernet is an RTL8111 on PCIe): SD, EHCI and xHCI with their PHYs.
    tegra: ['sdhci_tegra', 'ci_hdrc_tegra', 'phy_tegra_usb', 'xhci_tegra', 'phy_tegra_xusb'],
    // QEMU's vexpress-a15: LAN9118 and PL180 MMCI.
    'qemu vexpress': ['smsc911x', 'armmmci'],
  },
};

/** The modules an architecture's image ships: the families of every machine, then its own. */
export function imageModules(arch: string): string[] {
  return [...IMAGE_MODULES, ...Object.values(ARCHITECTURE_MODULE_FAMILIES[arch] ?? {}).flat()];
}
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
  // NE2000 clones and RTL8139 cards before C+: only in old PCs and emulators, no farm machine of today.
  'old network cards': ['ne2k_pci', '8139too'],
  // eMMC and SD cards on PCI SDHCI hosts (Chromebooks, small PCs) and UFS: 0.34 MB of xz that would take the amd64 image over 20 MiB.
  'emmc sd ufs': ['sdhci_pci', 'mmc_block', 'ufshcd_pci'],
  // What a b2c.filesystem on a local disk may hold besides ext4 (an image store a farm wrote there, a USB stick): the init loads the
  // module of what it finds, and names this add-on when the machine booted without it.
  filesystems: ['xfs', 'btrfs', 'vfat', 'exfat', 'ntfs3', 'f2fs'],
};
/**
 * Folders of the kernel's `drivers/` whose every module goes into the modules
 * add-on as well: what any machine may need to reach a network or a disk,
 * with the SoC glue of boards (clocks, regulators, resets, pins, PHYs of USB
 * and PCIe, the PMICs behind I2C, the efuses that hold MAC addresses), and no
 * sound, media, GPU or wireless driver.
 */
export const ADDON_MODULE_FOLDERS = [
  'net/ethernet',
  'net/phy',
  'net/mdio',
  'net/pcs',
  'net/usb',
  'usb/host',
  'usb/storage',
  'usb/dwc2',
  'usb/dwc3',
  'usb/musb',
  'usb/chipidea',
  'usb/cdns3',
  'usb/phy',
  'ata',
  'nvme',
  'mmc',
  'scsi',
  'ufs',
  'pci',
  'phy',
  'clk',
  'regulator',
  'reset',
  'mfd',
  'i2c/busses',
  'pinctrl',
  'gpio',
  'soc',
  'interconnect',
  'nvmem',
  'dma',
  'mailbox',
  'firmware',
];
export const ADDON_MODULES = Object.values(ADDON_MODULE_FAMILIES).flat();

/**
 * The image carries the firmware these drivers of it ask for (Debian's
 * non-free-firmware): the RTL8111/8168/8125/8126 patches of r8169, the NIC
 * on most farm PCs, 0.09 MB. The RTL8153/8156 USB adapters' patches (r8152,
 * which works without them) would take the amd64 image over 20 MiB: they are
 * in the firmware add-on.
 */
export const IMAGE_FIRMWARE = { modules: ['r8169'], packages: ['firmware-realtek'] };

/**
 * The firmware add-on (`b2c build --addons firmware`): every file the drivers
 * of the image and of the modules add-on ask for that these packages ship
 * (tg3, bnx2, bnx2x, ice, qed, liquidio, SCSI HBAs). None of them asks for a
 * licence to be accepted; Netronome's 144 MB is left out.
 */
export const ADDON_FIRMWARE_PACKAGES = [
  'firmware-realtek',
  'firmware-misc-nonfree',
  'firmware-bnx2',
  'firmware-bnx2x',
  'firmware-intel-misc',
  'firmware-qlogic',
  'firmware-cavium',
];

/**
 * The GPU firmware add-on (`--addons gpu-firmware`) for graphics-driver
 * farms, whose kernels bring the GPU drivers: whole folders per package, each
 * file compressed on its own (the kernel's loader reads `.xz`) and stored
 * once (402 of the 1,379 names are links), so the 170 MB Debian ships cost
 * 72 MB of RAM.
 */
export const GPU_FIRMWARE: Record<string, string[]> = {
  // AMD: amdgpu for GCN and later, radeon before.
  'firmware-amd-graphics': ['amdgpu', 'radeon'],
  // Intel: GuC, HuC and display firmware of i915 and xe.
  'firmware-intel-graphics': ['i915', 'xe'],
  // NVIDIA: nouveau's signed firmware, and the GSP firmware of Turing and later.
  'firmware-nvidia-graphics': ['nvidia'],
};
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
