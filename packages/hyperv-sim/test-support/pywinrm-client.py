#!/usr/bin/python3
"""An independent WS-Management client for the interop test (pywinrm-interop.test.ts).

Uses Debian's python3-winrm (pywinrm 0.3 with requests-ntlm and ntlm-auth): NTLM
authentication and, with encryption "always", WinRM message sealing over plain HTTP, none of
it our code. The SOAP envelopes are written here by hand in pywinrm's own style (prefixes
env/a/w/n/p), so the simulator also has to read a formulation that is not its own.

Usage: pywinrm-client.py '{"endpoint": ..., "user": ..., "password": ..., "encryption":
"always"|"never", "vm": GUID, "key": K, "value": V}'. Prints one JSON object: the facts read
from each answer with ElementTree, the raw answers, or the error pywinrm raised.
"""
import hashlib
import json
import os
import sys
import tempfile
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

# ntlm-auth 1.4 takes MD4 (for the NT hash) from hashlib, and OpenSSL 3 keeps MD4 in its
# legacy provider, which Debian does not load by default ("unsupported hash type md4"). Run
# again with a configuration that loads it; ntlm-auth itself stays untouched.
LEGACY_CONFIG = """openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
"""


def ensure_md4():
    config = os.environ.get("PYWINRM_CLIENT_OPENSSL_CONF")
    try:
        hashlib.new("md4")
    except ValueError:
        if config is not None:
            sys.exit("pywinrm-client.py: MD4 is unavailable even with OpenSSL's legacy provider")
        fd, path = tempfile.mkstemp(suffix=".cnf")
        with os.fdopen(fd, "w") as f:
            f.write(LEGACY_CONFIG)
        env = dict(os.environ, OPENSSL_CONF=path, PYWINRM_CLIENT_OPENSSL_CONF=path)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    if config is not None:
        # OpenSSL read it when hashlib loaded; the file is no longer needed.
        os.unlink(config)


ensure_md4()

from winrm.exceptions import WinRMError, WinRMTransportError  # noqa: E402
from winrm.protocol import Protocol  # noqa: E402

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
}
V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"


def envelope(endpoint, resource_uri, action, body, selectors=None):
    selector_set = ""
    if selectors:
        selector_set = "<w:SelectorSet>%s</w:SelectorSet>" % "".join(
            '<w:Selector Name="%s">%s</w:Selector>' % (name, escape(value)) for name, value in selectors
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<env:Envelope xmlns:env="%(env)s" xmlns:a="%(a)s" xmlns:n="%(n)s" xmlns:w="%(w)s">'
        "<env:Header>"
        "<a:To>%(to)s</a:To>"
        '<a:ReplyTo><a:Address env:mustUnderstand="true">%(anon)s</a:Address></a:ReplyTo>'
        '<w:MaxEnvelopeSize env:mustUnderstand="true">153600</w:MaxEnvelopeSize>'
        "<a:MessageID>uuid:%(id)s</a:MessageID>"
        '<w:Locale xml:lang="en-US" env:mustUnderstand="false"/>'
        "<w:OperationTimeout>PT20S</w:OperationTimeout>"
        '<w:ResourceURI env:mustUnderstand="true">%(uri)s</w:ResourceURI>'
        '<a:Action env:mustUnderstand="true">%(action)s</a:Action>'
        "%(selectors)s"
        "</env:Header><env:Body>%(body)s</env:Body></env:Envelope>"
    ) % dict(NS, to=escape(endpoint), anon=ANONYMOUS, id=str(uuid.uuid4()).upper(), uri=resource_uri,
             action=action, selectors=selector_set, body=body)


def enumerate_xml(endpoint, wql, optimize):
    options = "<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements>" if optimize else ""
    body = '<n:Enumerate>%s<w:Filter Dialect="%s">%s</w:Filter></n:Enumerate>' % (options, WQL, escape(wql))
    return envelope(endpoint, V2 + "/*", NS["n"] + "/Enumerate", body)


def pull_xml(endpoint, context):
    body = "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext><n:MaxElements>1</n:MaxElements></n:Pull>" % escape(context)
    return envelope(endpoint, V2 + "/*", NS["n"] + "/Pull", body)


def get_xml(endpoint, class_name, selectors):
    return envelope(endpoint, V2 + "/" + class_name, "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", "", selectors)


def kvp_item(key, value):
    # Msvm_KvpExchangeDataItem as embedded CIM-XML; Source 0 = host items (pool 0).
    return (
        '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">'
        '<PROPERTY NAME="Data" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
        '<PROPERTY NAME="Name" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
        '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>0</VALUE></PROPERTY>'
        "</INSTANCE>"
    ) % (escape(value), escape(key))


def add_kvp_items_xml(endpoint, vm, key, value):
    service = V2 + "/Msvm_VirtualSystemManagementService"
    body = (
        '<p:AddKvpItems_INPUT xmlns:p="%(service)s">'
        "<p:TargetSystem><a:Address>%(anon)s</a:Address><a:ReferenceParameters>"
        "<w:ResourceURI>%(v2)s/Msvm_ComputerSystem</w:ResourceURI>"
        '<w:SelectorSet><w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector>'
        '<w:Selector Name="Name">%(vm)s</w:Selector></w:SelectorSet>'
        "</a:ReferenceParameters></p:TargetSystem>"
        "<p:DataItems>%(item)s</p:DataItems>"
        "</p:AddKvpItems_INPUT>"
    ) % dict(service=service, anon=ANONYMOUS, v2=V2, vm=escape(vm), item=escape(kvp_item(key, value)))
    selectors = [("CreationClassName", "Msvm_VirtualSystemManagementService"), ("Name", "vmms")]
    return envelope(endpoint, service, service + "/AddKvpItems", body, selectors)


def local(tag):
    return tag.rsplit("}", 1)[-1]


def property_values(instance, name):
    return [child.text or "" for child in instance if local(child.tag) == name]


def items_of(root):
    items = root.find(".//w:Items", NS)
    if items is None:
        items = root.find(".//n:Items", NS)
    return [] if items is None else list(items)


def main():
    args = json.loads(sys.argv[1])
    endpoint = args["endpoint"]
    protocol = Protocol(
        endpoint,
        transport="ntlm",
        username=args["user"],
        password=args["password"],
        message_encryption=args["encryption"],
        server_cert_validation="ignore",
    )
    send = protocol.transport.send_message
    answers = []

    def ask(xml):
        reply = send(xml)
        text = reply.decode("utf-8") if isinstance(reply, bytes) else reply
        answers.append(text)
        return ET.fromstring(text)

    facts = {"encryptionUsed": None}
    try:
        # 1. WQL enumeration, optimized: the items come in the first answer.
        root = ask(enumerate_xml(endpoint, "SELECT * FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'", True))
        facts["encryptionUsed"] = protocol.transport.encryption is not None
        facts["optimizedNames"] = [property_values(i, "Name")[0] for i in items_of(root)]
        facts["optimizedEnd"] = root.find(".//w:EndOfSequence", NS) is not None

        # 2. Enumerate without optimization, then Pull one item at a time.
        root = ask(enumerate_xml(endpoint, "SELECT * FROM Msvm_ComputerSystem", False))
        context = root.find(".//n:EnumerationContext", NS).text
        pulled = []
        for _ in range(50):
            root = ask(pull_xml(endpoint, context))
            pulled += [property_values(i, "Name")[0] for i in items_of(root)]
            if root.find(".//n:EndOfSequence", NS) is not None:
                break
            context = root.find(".//n:EnumerationContext", NS).text
        facts["pulledNames"] = pulled

        # 3. Get of the VM.
        root = ask(get_xml(endpoint, "Msvm_ComputerSystem", [("CreationClassName", "Msvm_ComputerSystem"), ("Name", args["vm"])]))
        instance = root.find("env:Body", NS)[0]
        facts["getElementName"] = property_values(instance, "ElementName")[0]

        # 4. Invoke AddKvpItems; 5. Get the job it started.
        root = ask(add_kvp_items_xml(endpoint, args["vm"], args["key"], args["value"]))
        output = root.find("env:Body", NS)[0]
        facts["invokeReturnValue"] = int(property_values(output, "ReturnValue")[0])
        job_id = [s.text for s in output.iter("{%s}Selector" % NS["w"]) if s.get("Name") == "InstanceID"][0]
        facts["jobInstanceId"] = job_id
        root = ask(get_xml(endpoint, "Msvm_ConcreteJob", [("InstanceID", job_id)]))
        facts["jobState"] = int(property_values(root.find("env:Body", NS)[0], "JobState")[0])
    except WinRMTransportError as error:
        text = error.response_text
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        facts["error"] = {"type": "WinRMTransportError", "code": error.code, "text": text[:2000]}
    except WinRMError as error:
        facts["error"] = {"type": type(error).__name__, "text": str(error)}
    print(json.dumps({"facts": facts, "answers": answers}))


if __name__ == "__main__":
    main()
