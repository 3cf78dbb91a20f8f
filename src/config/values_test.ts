import assert from "node:assert/strict";
import { integer, number, parseInteger, parseNumber } from "./values.ts";

Deno.test("an integer is trimmed, may carry a sign, and is checked against its range", () => {
  assert.equal(parseInteger("N", " +42 ", { min: 0, max: 100 }), 42);
  assert.throws(() => parseInteger("N", "-1", { min: 0, max: 100 }), {
    name: "ConfigError",
    message: "N: -1 is out of range; expected an integer from 0 to 100",
  });
  assert.throws(() => parseInteger("N", "1e3", { min: 0, max: 100 }), {
    message: 'N: "1e3" is not a whole number; expected an integer from 0 to 100',
  });
});

Deno.test("a setting's own words replace the integer's default form", () => {
  assert.throws(() => integer(1, 65535, "a port from 1 to 65535")("P", "0"), {
    message: "P: 0 is out of range; expected a port from 1 to 65535",
  });
});

Deno.test("a number takes decimals and exponents, not units or words", () => {
  const range = { min: 0, max: 1, form: "a fraction from 0 to 1" };
  assert.equal(parseNumber("F", "0.05", range), 0.05);
  assert.equal(parseNumber("F", ".5", range), 0.5);
  assert.equal(parseNumber("F", "5e-2", range), 0.05);
  assert.throws(() => parseNumber("F", "5%", range), {
    message: 'F: "5%" is not a number; expected a fraction from 0 to 1',
  });
  assert.throws(() => number(0, 1, "a fraction from 0 to 1")("F", "Infinity"), {
    message: 'F: "Infinity" is not a number; expected a fraction from 0 to 1',
  });
  assert.throws(() => parseNumber("F", " 2 ", range), {
    message: "F: 2 is out of range; expected a fraction from 0 to 1",
  });
});
