import { describe, expect, it } from "vitest";
import { AnswerBudget } from "../../../src/control/answer-budget.ts";

const limits = { perUser: 100, nonAdmins: 250, perAdmin: 1000 };
const user = (uid: number) => ({ uid, admin: false });
const root = { uid: 0, admin: true };

describe("the budget of unread answers", () => {
  it("lets each user hold one answer of any size, and more only within its budget", () => {
    const budget = new AnswerBudget(limits);
    expect(budget.refusal(500, user(7))).toBeUndefined();
    budget.take(500, user(7));
    expect(budget.refusal(1, user(7))).toBe("uid 7 has 500 bytes of answers not yet read on other connections, and this one (1 bytes) would pass its 100; read those first, then ask again");
    // Already over: even an empty answer is refused, so nothing more is carried out for it.
    expect(budget.refusal(0, user(7))).toBeDefined();
    budget.release(500, user(7));
    budget.take(60, user(7));
    expect(budget.refusal(40, user(7))).toBeUndefined();
    expect(budget.refusal(41, user(7))).toBeDefined();
    expect(budget.held(7)).toBe(60);
  });

  it("bounds all non-admins together, and never refuses root for what others hold", () => {
    const budget = new AnswerBudget(limits);
    for (const uid of [1, 2]) budget.take(100, user(uid));
    expect(budget.refusal(50, user(3))).toBeUndefined();
    expect(budget.refusal(51, user(3))).toBe("clients other than root hold 200 bytes of answers not yet read, and this one (51 bytes) would pass their 250; ask again later");
    // Unknown credentials count as one more non-admin.
    expect(budget.refusal(51, { uid: undefined, admin: false })).toBeDefined();
    expect(budget.refusal(5000, root)).toBeUndefined();
    budget.take(5000, root);
    expect(budget.refusal(1, root)).toBeDefined();
    expect(budget.nonAdmins).toBe(200);
    expect(budget.total).toBe(5200);
    for (const uid of [1, 2]) budget.release(100, user(uid));
    budget.release(5000, root);
    expect(budget.total).toBe(0);
    expect(budget.held(1)).toBe(0);
  });
});
