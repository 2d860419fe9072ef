// Times as people read them: dates and "expired 2 min ago".

/** An RFC 3339 UTC date for Unix seconds. */
export function isoDate(unix: number): string {
  const d = new Date(unix * 1000);
  return Number.isNaN(d.getTime()) ? "invalid date" : d.toISOString().replace(".000Z", "Z");
}

/** A short duration: "45 s", "2 min", "3 h", "2 d". */
export function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

/** What a time claim means relative to `now`, in words. */
export function relative(claim: string, unix: number, now: number): string {
  const delta = unix - now;
  const past = delta <= 0;
  switch (claim) {
    case "exp":
      return past ? `expired ${duration(delta)} ago` : `expires in ${duration(delta)}`;
    case "nbf":
      return past ? `valid since ${duration(delta)} ago` : `not valid for ${duration(delta)}`;
    case "iat":
      return past ? `issued ${duration(delta)} ago` : `issued ${duration(delta)} in the future`;
    default:
      return past ? `${duration(delta)} ago` : `in ${duration(delta)}`;
  }
}

/** Annotations for the time claims of a claim set. */
export function timeNotes(claims: Record<string, unknown>, now: number): string[] {
  const out: string[] = [];
  for (const c of ["iat", "nbf", "exp"]) {
    const v = claims[c];
    if (typeof v === "number") out.push(`${c}: ${isoDate(v)} (${relative(c, v, now)})`);
    else if (v !== undefined) out.push(`${c}: ${JSON.stringify(v)} (not a number)`);
  }
  return out;
}
