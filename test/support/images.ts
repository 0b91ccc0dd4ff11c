// The test image catalogue: builds each test image once per process (the large ones are also
// cached on disk) and pushes the requested ones to a test registry as `<name>:latest`.
//
//   busybox                 OCI index: linux/amd64 + linux/arm64/v8 manifests, one busybox layer
//   busybox-docker          Docker schema2 manifest, the same busybox layer blob
//   busybox-docker-list     Docker manifest list of two schema2 manifests (amd64, arm64/v8)
//   layers                  busybox layer + 2 layers: file and dir whiteouts, an opaque dir;
//                           /layers-expected.txt states the merged result
//   big                     busybox layer + 4 x ~53 MB generated layers (benchmarks; opt-in)
//   hostile/dotdot          '../escape'
//   hostile/absolute        '/abs-escape'
//   hostile/symlink-escape  'link' -> '/', then 'link/escaped-through-symlink'
//   hostile/hardlink-escape 'hardlink' => '../../outside'
//   hostile/device          char device 'dev/evil-mem' (1,1)
//   hostile/gzip-bomb       ~1 MB gzip of a tar holding one 1.06 GiB file of zeros
// Every image's config has Cmd ["sh"], PATH in Env, WorkingDir "/". Digests are stable
// across runs (fixed mtimes, gzip mtime 0) for a given busybox binary and zlib.
import { bigLayers } from './oci-big.ts';
import { busyboxEntries } from './oci-busybox.ts';
import { registryClient } from './oci-client.ts';
import { gzipBombLayer, hostileLayer } from './oci-hostile.ts';
import { buildIndex, buildManifest, gzipLayer, type Layer, type Platform, type ProcessConfig } from './oci-image.ts';
import { pushImage, type BuiltImage } from './oci-push.ts';
import { tarArchive, type TarEntry } from './oci-tar.ts';
import type { Registry } from './registry.ts';

export type TestImageName = 'busybox' | 'busybox-docker' | 'busybox-docker-list' | 'layers' | 'big' | 'hostile/dotdot'
  | 'hostile/absolute' | 'hostile/symlink-escape' | 'hostile/hardlink-escape' | 'hostile/device'
  | 'hostile/gzip-bomb';

/** Every test image; `big` (~200 MB) is pushed only when asked for by name. */
export const TEST_IMAGE_NAMES: readonly TestImageName[] = [
  'busybox', 'busybox-docker', 'busybox-docker-list', 'layers', 'big', 'hostile/dotdot', 'hostile/absolute',
  'hostile/symlink-escape', 'hostile/hardlink-escape', 'hostile/device', 'hostile/gzip-bomb',
];

/** Tag every test image is pushed under. */
export const TEST_IMAGE_TAG = 'latest';

/**
 * An image as pushed. `digest`/`mediaType` are those of the top object: the OCI index for
 * `busybox`, the Docker schema2 manifest for `busybox-docker`, the Docker manifest list for
 * `busybox-docker-list`, an OCI manifest otherwise.
 * `platforms` maps 'os/arch[/variant]' to the platform manifest digest (index images only).
 */
export interface PushedImage {
  ref: string;
  digest: string;
  mediaType: string;
  platforms?: Record<string, string>;
}

export const LINUX_AMD64: Platform = { os: 'linux', architecture: 'amd64' };
export const LINUX_ARM64: Platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };

/** Process defaults of every test image. */
export const TEST_PROCESS: ProcessConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  Cmd: ['sh'],
  WorkingDir: '/',
};

/**
 * Pushes `names` (default: every image but `big`) to `reg`; idempotent (blobs the registry
 * has are skipped). Images are built once per process; big layers are cached on disk.
 */
export async function pushTestImages(reg: Registry, names?: TestImageName[]): Promise<Record<TestImageName, PushedImage>> {
  const wanted = names ?? TEST_IMAGE_NAMES.filter((n) => n !== 'big');
  const client = registryClient(reg);
  const pushed = {} as Record<TestImageName, PushedImage>;
  for (const name of wanted) {
    const image = await buildTestImage(name);
    const top = await pushImage(client, name, TEST_IMAGE_TAG, image);
    pushed[name] = {
      ref: `${reg.host}/${name}:${TEST_IMAGE_TAG}`,
      digest: top.digest,
      mediaType: top.mediaType,
      ...(image.index ? { platforms: Object.fromEntries(image.manifests.map((m) => [platformKey(m.platform), m.manifest.digest])) } : {}),
    };
  }
  return pushed;
}

const built = new Map<TestImageName, Promise<BuiltImage>>();

/** The built (not pushed) image, memoised for the life of the process. */
export function buildTestImage(name: TestImageName): Promise<BuiltImage> {
  let image = built.get(name);
  if (!image) {
    image = build(name);
    built.set(name, image);
    image.catch(() => built.delete(name));
  }
  return image;
}

/** 'linux/amd64', 'linux/arm64/v8': the key of PushedImage.platforms. */
export function platformKey(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

async function build(name: TestImageName): Promise<BuiltImage> {
  switch (name) {
    case 'busybox': {
      const amd64 = buildManifest([busyboxLayer()], LINUX_AMD64, TEST_PROCESS);
      // The arm64 entry carries the same (amd64) busybox bytes under an arm64 config: tests
      // need a second platform to select against, not a runnable arm64 binary.
      const arm64 = buildManifest([busyboxLayer()], LINUX_ARM64, TEST_PROCESS);
      return { manifests: [amd64, arm64], index: buildIndex([amd64, arm64]) };
    }
    case 'busybox-docker':
      return single([busyboxLayer()], true);
    case 'busybox-docker-list': {
      // Same platforms (and same arm64 caveat) as `busybox`, in Docker schema2 media types.
      const amd64 = buildManifest([busyboxLayer()], LINUX_AMD64, TEST_PROCESS, true);
      const arm64 = buildManifest([busyboxLayer()], LINUX_ARM64, TEST_PROCESS, true);
      return { manifests: [amd64, arm64], index: buildIndex([amd64, arm64], true) };
    }
    case 'layers':
      return single([busyboxLayer(), memo('layers-2', () => gzipLayer(tarArchive(LAYERS_LOWER))), memo('layers-3', () => gzipLayer(tarArchive(LAYERS_UPPER)))]);
    case 'big':
      return single([busyboxLayer(), ...(await bigLayers())]);
    case 'hostile/gzip-bomb':
      return single([await gzipBombLayer()]);
    default:
      return single([hostileLayer(name)]);
  }
}

function single(layers: Layer[], docker = false): BuiltImage {
  return { manifests: [buildManifest(layers, LINUX_AMD64, TEST_PROCESS, docker)] };
}

const layerMemo = new Map<string, Layer>();
function memo(key: string, make: () => Layer): Layer {
  let layer = layerMemo.get(key);
  if (!layer) layerMemo.set(key, (layer = make()));
  return layer;
}

/** The busybox rootfs layer; byte-identical in every image that uses it (one blob). */
export function busyboxLayer(): Layer {
  return memo('busybox', () => gzipLayer(tarArchive(busyboxEntries())));
}

/** Path, inside `layers`, of the file that states what the merged tree must look like. */
export const LAYERS_EXPECTED_PATH = 'layers-expected.txt';

// Layer 2 of `layers`: files the upper layer deletes, overwrites or hides.
const LAYERS_LOWER: TarEntry[] = [
  { name: 'data/', type: 'dir' },
  { name: 'data/keep.txt', type: 'file', data: 'layer2\n' },
  { name: 'data/delete-me.txt', type: 'file', data: 'layer2\n' },
  { name: 'data/overwritten.txt', type: 'file', data: 'layer2\n' },
  { name: 'data/gone-dir/', type: 'dir' },
  { name: 'data/gone-dir/inner.txt', type: 'file', data: 'layer2\n' },
  { name: 'opaque/', type: 'dir' },
  { name: 'opaque/old-1.txt', type: 'file', data: 'layer2\n' },
  { name: 'opaque/sub/', type: 'dir' },
  { name: 'opaque/sub/old-2.txt', type: 'file', data: 'layer2\n' },
];

// Layer 3: a file whiteout, a directory whiteout, an opaque directory (marker first, then
// its new content), an overwrite, and the statement of the expected result.
const LAYERS_UPPER: TarEntry[] = [
  { name: 'data/', type: 'dir' },
  { name: 'data/.wh.delete-me.txt', type: 'file', data: '' },
  { name: 'data/.wh.gone-dir', type: 'file', data: '' },
  { name: 'data/overwritten.txt', type: 'file', data: 'layer3\n' },
  { name: 'opaque/', type: 'dir' },
  { name: 'opaque/.wh..wh..opq', type: 'file', data: '' },
  { name: 'opaque/new.txt', type: 'file', data: 'layer3\n' },
  {
    name: LAYERS_EXPECTED_PATH, type: 'file',
    // One fact per line: `present <path> <content>` or `absent <path>`.
    data: [
      'present /data/keep.txt layer2', 'present /data/overwritten.txt layer3',
      'present /opaque/new.txt layer3', 'absent /data/delete-me.txt', 'absent /data/gone-dir',
      'absent /opaque/old-1.txt', 'absent /opaque/sub', '',
    ].join('\n'),
  },
];
