// The images the boot tests and the bench run against, and what each prints.
// `make test-boot` and `make bench` pass the paths; run alone, the defaults
// are the uncompressed images that `make test-boot` builds.

import { existsSync } from "node:fs";
import { arch, Qemu, type BootOptions } from "./qemu.ts";

export interface Image {
  name: string;
  initrd: string;
}

// What `make ARCH=... test-boot` builds for the architecture (dist/ for amd64, dist/arm64/).
const dist = arch === "amd64" ? "dist" : `dist/${arch}`;

export const kernel = process.env.KERNEL ?? (arch === "amd64" ? ".cache/kernel/vmlinuz" : `.cache/kernel-${arch}/vmlinuz`);

export const images: Record<string, Image> = {
  tsinit: {
    name: "tsinit",
    initrd: process.env.TSINIT_IMAGE ?? `${dist}/initramfs.cpio`,
  },
  "busybox-init": {
    name: "busybox-init",
    initrd: process.env.BUSYBOX_IMAGE ?? `${dist}/busybox-init.cpio`,
  },
};

/** BOOT_TEST_IMAGES="tsinit busybox-init" picks the images to test. */
export function selectedImages(): Image[] {
  const names = (process.env.BOOT_TEST_IMAGES ?? "tsinit busybox-init").split(/\s+/).filter(Boolean);
  return names.map((name) => {
    const image = images[name];
    if (!image) throw new Error(`BOOT_TEST_IMAGES: unknown image ${name}`);
    return image;
  });
}

export function checkInputs(image: Image): void {
  for (const file of [kernel, image.initrd]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`make test-boot\` (it builds it)`);
  }
}

export function bootImage(image: Image, name: string, extra: Partial<BootOptions> = {}): Promise<Qemu> {
  checkInputs(image);
  return Qemu.boot({ name: `${image.name}-${name}`, kernel, initrd: image.initrd, ...extra });
}
