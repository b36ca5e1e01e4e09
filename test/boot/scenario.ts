// One boot test scenario: boot an image, run the body, always end qemu; on failure print the
// console's tail and save the whole transcript under dist/boot-logs/.
import { bootImage, type Image } from "./images.ts";
import type { BootOptions, Qemu } from "./qemu.ts";

export const LOG_DIR = "dist/boot-logs";

export async function scenario(image: Image, name: string, body: (vm: Qemu) => Promise<void>, options: Partial<BootOptions> = {}): Promise<void> {
  const vm = await bootImage(image, name, options);
  try {
    await body(vm);
  } catch (error) {
    const file = vm.saveTranscript(LOG_DIR);
    console.error(`--- console of ${vm.options.name} (whole transcript: ${file}) ---\n${vm.tail()}\n--- end ---`);
    throw error;
  } finally {
    await vm.close();
  }
}
