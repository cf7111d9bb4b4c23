// Test support only (excluded from the build).

/** The sample in docs/wmi-and-cim.md#cim-xml-as-hyper-v-writes-it, without its added whitespace: what Hyper-V writes. */
export const HYPERV_SAMPLE =
  '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">' +
  '<PROPERTY NAME="Caption" PROPAGATED="true" TYPE="string"></PROPERTY>' +
  '<PROPERTY NAME="Data" TYPE="string"><VALUE>web01.example.test</VALUE></PROPERTY>' +
  '<PROPERTY NAME="Description" PROPAGATED="true" TYPE="string"></PROPERTY>' +
  '<PROPERTY NAME="ElementName" PROPAGATED="true" TYPE="string"></PROPERTY>' +
  '<PROPERTY NAME="Name" TYPE="string"><VALUE>FullyQualifiedDomainName</VALUE></PROPERTY>' +
  '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>2</VALUE></PROPERTY>' +
  "</INSTANCE>";
