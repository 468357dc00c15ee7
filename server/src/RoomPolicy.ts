import type { PolicyRule } from './config.js';
import type { Identity } from './identity.js';

export type PolicyDecision = { allowed: true; rule: string | null } | { allowed: false; rule: string };

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`);
}

/** Rooms are open to anyone signed in with the link unless a rule restricts them. */
export class RoomPolicy {
  private readonly rules: { pattern: string; re: RegExp; rule: PolicyRule }[];

  constructor(rules: PolicyRule[]) {
    this.rules = rules.map((rule) => ({ pattern: rule.rooms, re: globToRegExp(rule.rooms), rule }));
  }

  decide(room: string, who: Identity): PolicyDecision {
    const match = this.rules.find((r) => r.re.test(room));
    if (!match) return { allowed: true, rule: null };
    const { users, groups, emailDomains } = match.rule.allow;
    const email = who.email?.toLowerCase();
    const domain = email?.includes('@') ? email.slice(email.lastIndexOf('@') + 1) : undefined;
    const allowed =
      users.includes(who.sub) ||
      (email !== undefined && users.some((u) => u.toLowerCase() === email)) ||
      who.groups.some((g) => groups.includes(g)) ||
      (domain !== undefined && emailDomains.some((d) => d.toLowerCase() === domain));
    return allowed ? { allowed: true, rule: match.pattern } : { allowed: false, rule: match.pattern };
  }
}
