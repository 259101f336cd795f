// Real b2c command lines from public farm repositories, rendered with plausible values: the corpus b2c cmdline must read without an error.
//
// Each entry names where its template lives (repository, path) and how it was rendered. Values in {{ }} or ${} were filled in by hand
// with what a farm would put there; the rest is as the template writes it. `extra` is the text of the file b2c.extra_args_url serves.

export interface FarmLine {
  /** Repository and path of the template, as found in a public copy. */
  source: string;
  /** What the line is. */
  what: string;
  /** The kernel's command line. */
  kernel: string;
  /** The extra arguments' file, when the template has one. */
  extra?: string;
}

const CI_TRON = 'gfx-ci/ci-tron .gitlab-ci/dut.yml (copy: austriancoder/ci-tron-action dut.yml)';
const MESA = 'mesa/mesa .gitlab-ci/b2c/b2c.yml.jinja2.jinja2';
const VALVE_INFRA = 'mupuf/valve-infra (copy: andrewrothstein/valve-infra)';

/** ci-tron's .ci-tron-b2c-job-v1 extra arguments with its defaults; `images` as a job names them (the gateway's proxy, or image IDs). */
function ciTronExtraArgs(images: { telegraf: string; registration: string; underTest: string }, exclusions = ''): string {
  return [
    '#!jinja2',
    'b2c.pipefail',
    'b2c.poweroff_delay=15',
    'b2c.minio="gateway,http://ci-gateway:9000,job-1234-access,job-1234-secret-0123456789"',
    `b2c.volume="job-1234-results,mirror=gateway/job-1234,pull_on=pipeline_start,push_on=changes,overwrite${exclusions
      .split(',')
      .map((pattern) => `,exclude=${pattern}`)
      .join('')},remove,expiration=pipeline_end,preserve"`,
    `b2c.run_service="--privileged --tls-verify=false --pid=host ${images.telegraf}" b2c.hostname=dut-amd-navi21-1`,
    `b2c.run="-ti --tls-verify=false ${images.registration} check"`,
    'b2c.proxy="https=http://ci-gateway:8100"',
    `b2c.run="-v job-1234-results:/builds/mesa/mesa  -w /builds/mesa/mesa --tls-verify=false --env https_proxy=http://ci-gateway:8100 ` +
      `--env-file /user/job.env --entrypoint sh ${images.underTest} -euc './install/deqp-runner.sh'"`,
    '',
  ].join('\n');
}

/** .ci-tron-b2c-job-v1's kernel line: its fragments sorted by name, as ci-tron joins them. */
const CI_TRON_JOB_KERNEL =
  'b2c.cache_device=auto b2c.extra_args_url=http://ci-gateway:8100/b2c-extra-args b2c.ntp_peer=ci-gateway b2c.swap=8G,swappiness=60 ' +
  'SALAD.machine_id=b4:2e:99:f0:76:c5 console=ttyS0,115200';

const PROXIED = {
  telegraf: 'ci-gateway:8002/gfx-ci/ci-tron/telegraf:latest',
  registration: 'ci-gateway:8002/gfx-ci/ci-tron/machine-registration:latest',
  underTest: 'ci-gateway:8002/mesa/mesa/debian/x86_64_test-vk:2025-11-20-piglit',
};

export const FARM_LINES: readonly FarmLine[] = [
  {
    source: CI_TRON,
    what: '.ci-tron-b2c-job-v1 with its defaults (no exclusion: exclude= renders empty)',
    kernel: CI_TRON_JOB_KERNEL,
    extra: ciTronExtraArgs(PROXIED),
  },
  {
    source: `${CI_TRON}, with mesa/mesa .gitlab-ci/ci-tron/gitlab-ci.yml's variables`,
    what: "Mesa's job on the same template: an exclusion, bash with -o pipefail, MaRS setup with tags",
    kernel: CI_TRON_JOB_KERNEL,
    extra: ciTronExtraArgs(PROXIED, 'install/*')
      .replace(' check"', ' setup --tags amdgpu:codename:NAVI21"')
      .replace(
        "--entrypoint sh ci-gateway:8002/mesa/mesa/debian/x86_64_test-vk:2025-11-20-piglit -euc './install/deqp-runner.sh'",
        '--entrypoint bash ci-gateway:8002/mesa/mesa/debian/x86_64_test-vk:2025-11-20-piglit -euc -o pipefail ' +
          "'curl --silent --fail-with-body http://ci-gateway:8100/install.tar.zst | tar --zstd --extract && export SCRIPTS_DIR=$PWD/install && $SCRIPTS_DIR/common/init-stage2.sh'",
      ),
  },
  {
    source: CI_TRON,
    what: '.ci-tron-b2c-diskless-v1: cache and swap on the gateway by NBD, images by ID from its NFS image store',
    kernel:
      'b2c.cache_device=/dev/nbd0 b2c.extra_args_url=http://ci-gateway:8100/b2c-extra-args ' +
      'b2c.filesystem=publicimgstore,type=nfs,src=ci-gateway:/imagestore/public,opts=ro|nolock ' +
      'b2c.nbd=/dev/nbd0,host=ci-gateway,port=10809,connections=5 b2c.nbd=/dev/nbd1,host=ci-gateway,port=10810,connections=5 ' +
      'b2c.ntp_peer=ci-gateway b2c.storage="additionalimagestores=publicimgstore" b2c.swap=/dev/nbd1 ' +
      'SALAD.machine_id=b4:2e:99:f0:76:c5 console=ttyS0,115200',
    extra: ciTronExtraArgs({
      telegraf: '3f0a9c1e5b7d2a4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809',
      registration: '9e8d7c6b5a4938271605f4e3d2c1b0a99887766554433221100ffeeddccbbaa0',
      underTest: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    }),
  },
  {
    source: `${CI_TRON} (.ci-tron-job-v1's example)`,
    what: 'the low-level example of a line in parts',
    kernel:
      'SALAD.machine_id=b4:2e:99:f0:76:c5 console=ttyS0,115200 b2c.ntp_peer=ci-gateway ' +
      'b2c.run="--tls-verify=false -t ci-gateway:8002/gfx-ci/ci-tron/executorctl:latest echo Hello world" b2c.poweroff_delay=15',
  },
  {
    source: `${MESA} (copy: alexvorxx/zink-xlib-termux)`,
    what: 'everything on the kernel line, b2c.service and b2c.container',
    kernel:
      'SALAD.machine_id=00:11:22:33:44:55 console=ttyS0,115200 earlyprintk=vga,keep loglevel=6 no_hash_pointers ' +
      'b2c.service="--privileged --tls-verify=false --pid=host docker://10.42.0.1:8002/gfx-ci/ci-tron/telegraf:latest" b2c.hostname=dut-amd-navi21-1 ' +
      'b2c.container="-ti --tls-verify=false docker://10.42.0.1:8002/gfx-ci/ci-tron/machine-registration:latest check" ' +
      'b2c.ntp_peer=10.42.0.1 b2c.pipefail b2c.cache_device=auto b2c.poweroff_delay=15 ' +
      'b2c.minio="gateway,http://10.42.0.1:9000,job-1234-access,job-1234-secret-0123456789" ' +
      'b2c.volume="job-1234-results,mirror=gateway/job-1234,pull_on=pipeline_start,push_on=changes,overwrite,exclude=*.log,remove,' +
      'expiration=pipeline_end,preserve" ' +
      'b2c.container="-v job-1234-results:/builds/mesa/mesa -w /builds/mesa/mesa  --tls-verify=false docker://10.42.0.1:8002/mesa/mesa/debian/x86_64_test-vk:tag ./install/deqp-runner.sh"',
  },
  {
    source: `${MESA} (copy: aerisarn/mesa-uwp)`,
    what: "valve-infra's older image names, and cmdline_extras",
    kernel:
      'SALAD.machine_id=00:11:22:33:44:55 console=ttyS0,115200 earlyprintk=vga,keep loglevel=6 no_hash_pointers ' +
      'b2c.service="--privileged --tls-verify=false --pid=host docker://10.42.0.1:8002/eric/valve-infra/telegraf-container:latest" b2c.hostname=dut-intel-tgl-1 ' +
      'b2c.container="-ti --tls-verify=false docker://10.42.0.1:8002/eric/valve-infra/machine_registration:latest check" ' +
      'b2c.ntp_peer=10.42.0.1 b2c.pipefail b2c.cache_device=auto b2c.poweroff_delay=15 ' +
      'b2c.minio="gateway,http://10.42.0.1:9000,job-77-access,job-77-secret-0123456789" ' +
      'b2c.volume="job-77-results,mirror=gateway/job-77,pull_on=pipeline_start,push_on=changes,overwrite,remove,' +
      'expiration=pipeline_end,preserve" ' +
      'b2c.container="-v job-77-results:/builds/mesa/mesa -w /builds/mesa/mesa  --tls-verify=false docker://10.42.0.1:8002/mesa/mesa/debian/x86_64_test-gl:tag ./install/piglit/piglit-runner.sh" ' +
      'i915.force_probe=*',
  },
  {
    source: `${MESA} (copies: h7su/mesa, bminor/mesa-mesa)`,
    what: 'the line split into the kernel line and an extra-arguments file (folded into one line)',
    kernel:
      'SALAD.machine_id=00:11:22:33:44:55 console=ttyS0,115200 b2c.cache_device=auto b2c.ntp_peer=10.42.0.1 b2c.extra_args_url=http://10.42.0.1:8100/b2c-extra-args',
    extra:
      'b2c.pipefail b2c.poweroff_delay=15 b2c.minio="gateway,http://10.42.0.1:9000,job-1234-access,job-1234-secret-0123456789" ' +
      'b2c.volume="job-1234-results,mirror=gateway/job-1234,pull_on=pipeline_start,push_on=changes,overwrite,exclude=*.log,remove,' +
      'expiration=pipeline_end,preserve" ' +
      'b2c.service="--privileged --tls-verify=false --pid=host docker://10.42.0.1:8002/gfx-ci/ci-tron/telegraf:latest" b2c.hostname=dut-amd-navi21-1 ' +
      'b2c.container="-v job-1234-results:/builds/mesa/mesa -w /builds/mesa/mesa  --tls-verify=false docker://10.42.0.1:8002/mesa/mesa/debian/x86_64_test-vk:tag ./install/deqp-runner.sh"\n',
  },
  {
    source: `${MESA} (copy: bminor/mesa-mesa)`,
    what: 'b2c.run and b2c.run_service, with the registration step',
    kernel:
      'SALAD.machine_id=00:11:22:33:44:55 console=ttyS0,115200 b2c.cache_device=auto b2c.ntp_peer=10.42.0.1 b2c.extra_args_url=http://10.42.0.1:8100/b2c-extra-args',
    extra:
      'b2c.pipefail b2c.poweroff_delay=15 b2c.minio="gateway,http://10.42.0.1:9000,job-1234-access,job-1234-secret-0123456789" ' +
      'b2c.volume="job-1234-results,mirror=gateway/job-1234,pull_on=pipeline_start,push_on=changes,overwrite,exclude=*.log,remove,' +
      'expiration=pipeline_end,preserve" ' +
      'b2c.run_service="--privileged --tls-verify=false --pid=host docker://10.42.0.1:8002/gfx-ci/ci-tron/telegraf:latest" b2c.hostname=dut-amd-navi21-1 ' +
      'b2c.run="-ti --tls-verify=false docker://10.42.0.1:8002/gfx-ci/ci-tron/machine-registration:latest check" ' +
      'b2c.run="-v job-1234-results:/builds/mesa/mesa -w /builds/mesa/mesa  --tls-verify=false docker://10.42.0.1:8002/mesa/mesa/debian/x86_64_test-vk:tag ./install/deqp-runner.sh"\n',
  },
  {
    source: `${MESA} (copy: komastudios/mesa)`,
    what: 'the last template before dut.yml, diskless: NFS image store, NBD cache, bash -euc',
    kernel:
      'SALAD.machine_id=00:11:22:33:44:55 console=ttyS0,115200 b2c.ntp_peer=10.42.0.1 b2c.extra_args_url=http://10.42.0.1:8100/b2c-extra-args ' +
      'b2c.filesystem=publicimgstore,type=nfs,src=10.42.0.1:/imagestore/public,opts=ro|nolock b2c.storage="additionalimagestores=publicimgstore" ' +
      'b2c.nbd=/dev/nbd0,host=ci-gateway,port=10809,connections=5 b2c.cache_device=/dev/nbd0',
    extra:
      'b2c.pipefail b2c.poweroff_delay=15 b2c.minio="gateway,http://10.42.0.1:9000,job-1234-access,job-1234-secret-0123456789" ' +
      'b2c.volume="job-1234-results,mirror=gateway/job-1234,pull_on=pipeline_start,push_on=changes,overwrite,exclude=*.log,remove,' +
      'expiration=pipeline_end,preserve" ' +
      'b2c.run_service="--privileged --tls-verify=false --pid=host 3f0a9c1e5b7d2a4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809" ' +
      'b2c.hostname=dut-amd-navi21-1 ' +
      'b2c.run="-ti --tls-verify=false 9e8d7c6b5a4938271605f4e3d2c1b0a99887766554433221100ffeeddccbbaa0 setup --tags amdgpu:codename:NAVI21" ' +
      'b2c.run="-v job-1234-results:/builds/mesa/mesa -w /builds/mesa/mesa  -v traces:/traces --tls-verify=false --entrypoint bash ' +
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef -euc 'curl-with-retry -q http://10.42.0.1:8100/install.tar.zst | tar --zstd -x; ./install/deqp-runner.sh'\"\n",
  },
  {
    source: `${VALVE_INFRA} executor/server/.../job_templates/register.yml.j2`,
    what: 'machine registration',
    kernel:
      'b2c.container="-ti --tls-verify=false docker://10.42.0.1:8002/mupuf/valve-infra/machine_registration:latest register" b2c.ntp_peer="ci-gateway" b2c.cache_device=auto loglevel=6',
  },
  {
    source: `${VALVE_INFRA} executor/server/.../job_templates/interactive.yml.j2`,
    what: 'an interactive session with a job volume',
    kernel:
      'b2c.minio="gateway,http://10.42.0.1:9000,job-5-access,job-5-secret-0123456789" ' +
      'b2c.volume="job,mirror=gateway/job-5,pull_on=pipeline_start,push_on=pipeline_end,overwrite" ' +
      'b2c.container="-ti --tls-verify=false -v job:/job_share/ --entrypoint=bash docker://10.42.0.1:8002/mupuf/valve-infra/machine_registration:latest" ' +
      'console=ttyS0,115200 SALAD.machine_id=00:11:22:33:44:55 b2c.ntp_peer="ci-gateway" b2c.cache_device=none b2c.poweroff_delay=15 loglevel=6',
  },
  {
    source: `${VALVE_INFRA} executor/server/.../job_templates/bootloop.yml.j2`,
    what: 'a boot loop check',
    kernel:
      'b2c.container="-ti --tls-verify=false docker://10.42.0.1:8002/mupuf/valve-infra/machine_registration:latest check" ' +
      'b2c.ntp_peer="ci-gateway" b2c.pipefail b2c.cache_device=auto b2c.poweroff_delay=15 ' +
      'console=ttyS0,115200 earlyprintk=vga,keep SALAD.machine_id=00:11:22:33:44:55 loglevel=6',
  },
  {
    source: `${VALVE_INFRA} executor/server/.../tests (ci-tron test_job.py's rendered sample job)`,
    what: 'the sample job as its test renders it',
    kernel:
      'b2c.container="docker://10.42.0.1:8001/infra/machine-registration:latest check" b2c.ntp_peer="10.42.0.1" b2c.pipefail b2c.cache_device=auto ' +
      'b2c.container="-v /container/tmp:/storage docker://10.42.0.1:8002/tests/mesa:12345" console=ttyS0,115200 earlyprintk=vga,keep ' +
      'SALAD.machine_id=b4:2e:99:f0:76:c5 extra=""',
  },
  {
    source: `${VALVE_INFRA} executor/server/.../tests (the continue deployment)`,
    what: 'the sample job resumed',
    kernel:
      'b2c.container="docker://10.42.0.1:8001/infra/machine-registration:latest check" b2c.ntp_peer=10.42.0.1 b2c.pipefail b2c.cache_device=auto ' +
      'b2c.container="-v /container/tmp:/storage docker://10.42.0.1:8002/tests/mesa:12345 resume"',
  },
  {
    source: `${VALVE_INFRA} executor/server/.../config.py`,
    what: "the executor's default boot line",
    kernel:
      'b2c.container="-ti --tls-verify=false docker://10.42.0.1:8002/mupuf/valve-infra/machine_registration:latest register" b2c.ntp_peer="10.42.0.1" b2c.cache_device=none loglevel=6',
  },
  {
    source: `${VALVE_INFRA} Makefile (vivian)`,
    what: 'the farm gateway itself, as a b2c container with systemd as its init',
    kernel:
      'b2c.volume="tmp" b2c.volume="perm" b2c.container="-ti --dns=none -v tmp:/mnt/tmp -v perm:/mnt/permanent --tls-verify=false ' +
      '--entrypoint=/bin/init docker://registry.freedesktop.org/mupuf/valve-infra/valve-infra-container:latest" ' +
      'b2c.ntp_peer=auto b2c.pipefail b2c.cache_device=auto net.ifnames=0 quiet',
  },
  {
    source: `${VALVE_INFRA} Makefile (vivian-dut)`,
    what: 'the gateway image booted as a test machine',
    kernel:
      'b2c.volume="tmp" b2c.volume="perm" b2c.container="--dns=none -v tmp:/mnt/tmp -v perm:/mnt/permanent --tls-verify=false ' +
      'docker://registry.freedesktop.org/mupuf/valve-infra/valve-infra-container:latest" b2c.ntp_peer=auto b2c.pipefail b2c.cache_device=auto net.ifnames=0 quiet',
  },
  {
    source: `${VALVE_INFRA} .gitlab-ci (Mesa's trigger container)`,
    what: 'a post container that reaps the artifacts',
    kernel:
      'b2c.container="-ti --tls-verify=false docker://10.42.0.1:8002/mupuf/valve-infra/machine_registration:latest check" ' +
      'b2c.ntp_peer="10.42.0.1" b2c.pipefail b2c.cache_device=auto b2c.poweroff_delay=15 ' +
      'b2c.container="-v 5678-results:/builds/mesa/mesa/results --tls-verify=false docker://10.42.0.1:8002/mesa/mesa/debian/x86_64_test-gl:tag" ' +
      'b2c.post_container="-v 5678-results:/results -e CI_JOB_ID=5678 --tls-verify=false docker://10.42.0.1:8002/mupuf/valve-infra/artifact-reaper:latest" ' +
      'console=ttyS0,115200 earlyprintk=vga,keep SALAD.machine_id=00:11:22:33:44:55 loglevel=6',
  },
  {
    source: `${VALVE_INFRA} valvetraces README`,
    what: 'traces on an encrypted volume, its key inline',
    kernel:
      'SALAD.machine_id=00:11:22:33:44:55 console=ttyS0,115200 earlyprintk=vga,keep loglevel=6 ' +
      'b2c.ntp_peer=10.42.0.1 b2c.pipefail b2c.cache_device=auto b2c.poweroff_delay=15 ' +
      'b2c.minio="gateway,http://10.42.0.1:9000,job-9-access,job-9-secret-0123456789" ' +
      'b2c.volume="job-9-job,mirror=gateway/job-9,pull_on=pipeline_start,push_on=changes,overwrite,preserve,remove,expiration=pipeline_end" ' +
      'b2c.volume=valvetraces,mirror=gateway/valvetraces,pull_on=pipeline_start,overwrite,preserve,remove,fscrypt_key=dGhlIGtleSBvZiB0aGUgdHJhY2Vz ' +
      'b2c.container="-ti --tls-verify=false docker://10.42.0.1:8002/mupuf/valve-infra/machine_registration:latest check" ' +
      'b2c.container="-v job-9-job:/job -w /job -v valvetraces:/traces --tls-verify=false -w /job docker://10.42.0.1:8002/valve/traces-runner:1  /entrypoint-dxvk"',
  },
  {
    source: `${VALVE_INFRA} ipxe-boot-server README`,
    what: 'secrets kept in an extra-arguments file that starts with a comment',
    kernel: 'console=ttyS0,115200 b2c.container="docker://10.42.0.1:8002/tests/mesa:12345" b2c.extra_args_url="http://10.42.0.1:8080/secrets/dut-3"',
    extra:
      '# Put here any b2c argument you want to keep secret (fscrypt key, S3 credentials, ...)\n' +
      'b2c.minio="gateway,http://10.42.0.1:9000,dut-3-access,dut-3-secret-0123456789"\n' +
      'b2c.volume="job,mirror=gateway/dut-3,pull_on=pipeline_start,push_on=pipeline_end,fscrypt_key=dGhlIGtleSBvZiBkdXQtMw=="\n',
  },
  {
    source: 'GSoC 2023 blog, "Run Boot2container on RPi"',
    what: 'an iPXE line on a Raspberry Pi',
    kernel: 'initrd=b2c b2c.run="-ti docker.io/library/alpine:latest" b2c.ntp_peer=auto',
  },
  {
    source: 'GSoC 2023 blog, final post',
    what: 'the gateway image on an arm64 board, its cache on the SD card',
    kernel:
      'initrd=b2c b2c.run="-ti registry.freedesktop.org/mupuf/valve-infra/valve-infra-container:aarch64" b2c.ntp_peer=auto b2c.cache_device=/dev/mmcblk0p2',
  },
  {
    source: 'a personal blog on boot2container 0.9.17 in QEMU',
    what: 'alpine under QEMU',
    kernel: 'console=ttyS0 b2c.run="-ti docker.io/library/alpine:latest"',
  },
  {
    source: 'the same blog, its second example as printed',
    what: 'a quote left open at the end of the line (the post has one quote too many in its shell quoting)',
    kernel: 'console=ttyS0 b2c.run="-ti docker.io/valkey/valkey:8.1.4-alpine3.22',
  },
];
