import { describe, expect, it } from "vitest";
import { duration, isoDate, relative, timeNotes } from "../src/lib/time";

describe("time formatting", () => {
  it("formats dates in UTC", () => {
    expect(isoDate(1893456000)).toBe("2030-01-01T00:00:00Z");
  });
  it("formats durations", () => {
    expect(duration(45)).toBe("45 s");
    expect(duration(-125)).toBe("2 min");
    expect(duration(7200)).toBe("2 h");
    expect(duration(3 * 86400)).toBe("3 d");
  });
  it("says what a time claim means", () => {
    expect(relative("exp", 1000 - 120, 1000)).toBe("expired 2 min ago");
    expect(relative("exp", 1000 + 3600, 1000)).toBe("expires in 1 h");
    expect(relative("nbf", 1300, 1000)).toBe("not valid for 5 min");
    expect(relative("iat", 990, 1000)).toBe("issued 10 s ago");
  });
  it("annotates claims and flags non-numbers", () => {
    expect(timeNotes({ exp: 1060, iat: "x" }, 1000)).toEqual(["iat: \"x\" (not a number)", "exp: 1970-01-01T00:17:40Z (expires in 1 min)"]);
  });
});
