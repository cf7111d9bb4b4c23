/// <reference types="node" />
// What we write as CIM-XML, validated against DMTF's DTD by xmllint (Debian libxml2-utils);
// the DTD is in test-support/fixtures with DMTF's notice.
import { XMLLINT, describeNeeding } from "@hyperv-kvp/test-support/tools";
import fc from "fast-check";
import { expect, it } from "vitest";
import { instance, instancePath, kvpItem } from "../../test-support/cim/arbitraries.js";
import { EVERYTHING_XML } from "../../test-support/cim/everything.js";
import { HYPERV_SAMPLE } from "../../test-support/cim/hyperv-sample.js";
import { validateAgainstDtd } from "../../test-support/cim/xmllint.js";
import { encodeKvpItem } from "./kvp-item.js";
import { instancePathToCimXml, toCimXml } from "./to-cim-xml.js";

describeNeeding("DTD validation (xmllint --dtdvalid DSP0203_2.4.0.dtd)", [XMLLINT], () => {
  it("accepts everything toCimXml and instancePathToCimXml write", () => {
    const documents = [
      EVERYTHING_XML,
      ...fc.sample(instance, { numRuns: 300, seed: 42 }).map(toCimXml),
      ...fc.sample(instancePath(2), { numRuns: 100, seed: 7 }).map((p) => instancePathToCimXml(p)),
    ];
    expect(validateAgainstDtd(documents)).toEqual([]);
  });

  it("accepts every encoded KVP item, Hyper-V's own sample first", () => {
    const documents = [HYPERV_SAMPLE, ...fc.sample(kvpItem, { numRuns: 200, seed: 3 }).map((i) => encodeKvpItem(i))];
    expect(validateAgainstDtd(documents)).toEqual([]);
  });

  it("is a real check: it rejects an invalid document", () => {
    const failures = validateAgainstDtd([
      '<INSTANCE CLASSNAME="X"><PROPERTY NAME="p" TYPE="reference"></PROPERTY></INSTANCE>',
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.output).toContain("TYPE");
  });
});
