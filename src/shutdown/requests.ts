// What PID 1 does on each signal. The numbers are busybox init's, so busybox's `halt`,
// `poweroff` and `reboot` applets (SIGUSR1, SIGUSR2, SIGTERM) work unchanged. Pure.

export type ShutdownKind = "poweroff" | "reboot" | "halt";

export type SignalRequest =
  | { kind: "shutdown"; shutdown: ShutdownKind }
  | { kind: "ctrlaltdel" }
  | { kind: "reload" };

export const PID1_SIGNALS = ["SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT", "SIGHUP"] as const;

export type Pid1Signal = (typeof PID1_SIGNALS)[number];

/** SIGINT is ctrl-alt-del (after reboot(CAD_OFF)): the `ctrlaltdel` service if there is one. */
export function signalRequest(signal: Pid1Signal, hasCtrlAltDelService: boolean): SignalRequest {
  switch (signal) {
    case "SIGUSR1":
      return { kind: "shutdown", shutdown: "halt" };
    case "SIGUSR2":
      return { kind: "shutdown", shutdown: "poweroff" };
    case "SIGTERM":
      return { kind: "shutdown", shutdown: "reboot" };
    case "SIGINT":
      return hasCtrlAltDelService ? { kind: "ctrlaltdel" } : { kind: "shutdown", shutdown: "reboot" };
    case "SIGHUP":
      return { kind: "reload" };
  }
}
