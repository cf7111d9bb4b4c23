#Requires -Version 5.1
<#
.SYNOPSIS
    kvp-host's bridge to Hyper-V's WMI on this machine: JSON requests in, JSON answers out.

.DESCRIPTION
    kvp-host (apps/host-cli/src/transports/powershell.ts) starts this script once per run as

        powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File kvp-host-bridge.ps1

    (or pwsh with the same arguments). The script writes one hello line, then reads one JSON
    request per line on standard input and writes exactly one JSON answer line for each on
    standard output, until standard input ends. Both directions are UTF-8 without a BOM, lines
    end with LF. The protocol (version 1) is documented once, in
    src/transports/powershell-protocol.ts; this script and the test stand-in
    (src/test-support/powershell-stand-in.ts) both follow it:

      hello   {"bridge":"kvp-host-bridge","protocol":1,"psVersion":"5.1...","psEdition":"Desktop","pid":1234}
      query   {"id":1,"op":"query","namespace":"root/virtualization/v2","wql":"SELECT ..."}
              -> {"id":1,"ok":true,"result":[{"className":"...","properties":{...}}, ...]}
      get     {"id":2,"op":"get","namespace":"...","className":"Msvm_ConcreteJob","keys":{"InstanceID":"..."}}
              -> {"id":2,"ok":true,"result":{"className":"...","properties":{...}}}
      invokeKvp {"id":3,"op":"invokeKvp","namespace":"...","method":"AddKvpItems","vmId":"GUID","dataItems":["<INSTANCE ..."]}
              -> {"id":3,"ok":true,"result":{"returnValue":4096,"job":{"className":"Msvm_ConcreteJob","instanceId":"..."}}}
      jobErrors {"id":4,"op":"jobErrors","namespace":"...","className":"Msvm_ConcreteJob","instanceId":"..."}
              -> {"id":4,"ok":true,"result":{"returnValue":0,"errors":["<INSTANCE CLASSNAME=\"Msvm_Error\">...", ...]}}
      failure -> {"id":N,"ok":false,"error":{"kind":"not-found|access-denied|cim|invalid-request|internal","message":"...",...}}

    An answer may carry "extraCalls": the WMI operations the bridge made for the request on
    top of the one it stands for (the service lookup, the Get of the VM or job), so kvp-host
    counts every call.

    Safety: every value of a request (namespace, WQL, class and key names, keys, KVP items)
    reaches the CIM cmdlets as a parameter value; nothing of a request ever becomes script
    text: no Invoke-Expression, no script block made from a string, no Add-Type. The WQL
    arrives complete and escaped from kvp-host (src/wql.ts); class and key names must be
    identifiers, namespaces and method names come from fixed lists. One request failing
    (try/catch around each) never ends the loop.

    UNVERIFIED: this script has not run on a Windows host with Hyper-V. It is parse-checked
    with the tree-sitter PowerShell grammar and its protocol is exercised through the stand-in.
#>

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
# Nothing may reach standard output but answer lines: no progress records, no warnings.
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
$VerbosePreference = 'SilentlyContinue'
$InformationPreference = 'SilentlyContinue'

$BridgeName = 'kvp-host-bridge'
$ProtocolVersion = 1
# kvp-host sends at most 128 KVP items per call, each a few KiB of CIM-XML; 16 Mi characters
# is far above any real request and keeps a runaway line from filling memory twice over.
$MaxRequestChars = 16 * 1024 * 1024
# Embedded instances nest one level in practice (an Msvm_Error in an output); more is refused.
$MaxInstanceDepth = 4
# ConvertTo-Json's depth: answer, result array, instance, properties, arrays and embedded
# instances stay well under it (Windows PowerShell 5.1 silently cuts deeper objects).
$JsonDepth = 24
$KvpMethods = @('AddKvpItems', 'ModifyKvpItems', 'RemoveKvpItems')
$Namespaces = @('root/virtualization/v2', 'root/HyperVCluster/v2')
$IdentifierPattern = '^[A-Za-z_][A-Za-z0-9_]{0,255}$'
$ServiceClass = 'Msvm_VirtualSystemManagementService'
$BridgeKindKey = 'KvpHostBridgeKind'
# Largest integer JavaScript reads exactly (2^53 - 1); bigger ones travel as strings.
$MaxSafeInteger = 9007199254740991
$SmallNumberTypes = @('System.Byte', 'System.SByte', 'System.Int16', 'System.UInt16', 'System.Int32', 'System.UInt32')
$ServiceCache = @{}

function New-BridgeException {
    param([string]$Kind, [string]$Message)
    $exception = [System.InvalidOperationException]::new($Message)
    $exception.Data[$BridgeKindKey] = $Kind
    return $exception
}

function Test-CimInstance {
    param($Value)
    if ($null -eq $Value) {
        return $false
    }
    return ($Value.GetType().FullName -eq 'Microsoft.Management.Infrastructure.CimInstance')
}

function Get-RequestValue {
    param($Request, [string]$Name)
    $property = $Request.PSObject.Properties[$Name]
    if ($null -eq $property) {
        return $null
    }
    return , $property.Value
}

function Get-RequestString {
    param($Request, [string]$Name)
    $value = Get-RequestValue -Request $Request -Name $Name
    if ($value -isnot [string]) {
        throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: '$Name' must be a string")
    }
    return $value
}

function Get-RequestIdentifier {
    param($Request, [string]$Name)
    $value = Get-RequestString -Request $Request -Name $Name
    if ($value -cnotmatch $IdentifierPattern) {
        throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: '$Name' must be a CIM identifier")
    }
    return $value
}

function Get-RequestNamespace {
    param($Request)
    $namespace = (Get-RequestString -Request $Request -Name 'namespace').Replace('\', '/')
    foreach ($allowed in $Namespaces) {
        if ([string]::Equals($allowed, $namespace, [System.StringComparison]::OrdinalIgnoreCase)) {
            return $allowed
        }
    }
    throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: namespace '$namespace' is not one kvp-host uses")
}

function Get-RequestStringArray {
    param($Request, [string]$Name)
    $value = Get-RequestValue -Request $Request -Name $Name
    if ($null -eq $value -or $value -isnot [System.Array]) {
        throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: '$Name' must be an array of strings")
    }
    $strings = [System.Collections.Generic.List[string]]::new()
    foreach ($item in $value) {
        if ($item -isnot [string]) {
            throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: '$Name' must be an array of strings")
        }
        $strings.Add($item)
    }
    return , $strings.ToArray()
}

function Get-RequestKeys {
    param($Request)
    $keys = Get-RequestValue -Request $Request -Name 'keys'
    if ($null -eq $keys -or $keys -isnot [System.Management.Automation.PSCustomObject]) {
        throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: 'keys' must be an object of strings")
    }
    $table = @{}
    foreach ($property in $keys.PSObject.Properties) {
        if ($property.Name -cnotmatch $IdentifierPattern -or $property.Value -isnot [string]) {
            throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: 'keys' must map CIM identifiers to strings")
        }
        $table[$property.Name] = $property.Value
    }
    if ($table.Count -eq 0) {
        throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: 'keys' is empty")
    }
    return $table
}

function Test-RequestId {
    param($Id)
    return (($Id -is [int] -or $Id -is [long]) -and $Id -ge 0)
}

# One property value as the protocol writes it: null, string, number, boolean, an instance
# ({className, properties}) or an array of those. Datetimes become ISO 8601 text, intervals
# ISO 8601 durations, integers beyond 2^53 decimal text.
function ConvertTo-BridgeValue {
    param($Value, [int]$Depth)
    if ($null -eq $Value) {
        return $null
    }
    if ($Value -is [string]) {
        return $Value
    }
    if ($Value -is [char]) {
        return [string]$Value
    }
    if ($Value -is [bool]) {
        return $Value
    }
    if ($Value -is [datetime]) {
        return $Value.ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
    }
    if ($Value -is [timespan]) {
        return [System.Xml.XmlConvert]::ToString($Value)
    }
    if (Test-CimInstance -Value $Value) {
        return (ConvertTo-BridgeInstance -Instance $Value -Depth ($Depth + 1))
    }
    $typeName = $Value.GetType().FullName
    if ($SmallNumberTypes -contains $typeName) {
        return $Value
    }
    if ($typeName -eq 'System.Int64' -or $typeName -eq 'System.UInt64') {
        if ([decimal]$Value -le $MaxSafeInteger -and [decimal]$Value -ge (-$MaxSafeInteger)) {
            return $Value
        }
        return $Value.ToString([System.Globalization.CultureInfo]::InvariantCulture)
    }
    if ($typeName -eq 'System.Single' -or $typeName -eq 'System.Double') {
        if ([double]::IsNaN($Value) -or [double]::IsInfinity($Value)) {
            return $Value.ToString([System.Globalization.CultureInfo]::InvariantCulture)
        }
        return $Value
    }
    if ($Value -is [System.Collections.IEnumerable]) {
        $items = [System.Collections.Generic.List[object]]::new()
        foreach ($element in $Value) {
            $items.Add((ConvertTo-BridgeValue -Value $element -Depth $Depth))
        }
        return , $items.ToArray()
    }
    return [string]$Value
}

function ConvertTo-BridgeInstance {
    param($Instance, [int]$Depth)
    if ($Depth -gt $MaxInstanceDepth) {
        throw (New-BridgeException -Kind 'internal' -Message "embedded instances nested deeper than $MaxInstanceDepth levels")
    }
    $properties = [ordered]@{}
    foreach ($property in $Instance.CimInstanceProperties) {
        $properties[$property.Name] = ConvertTo-BridgeValue -Value $property.Value -Depth $Depth
    }
    return [ordered]@{
        className  = [string]$Instance.CimSystemProperties.ClassName
        properties = $properties
    }
}

# An output parameter of Invoke-CimMethod's result: CIM cmdlets show them as properties
# (ReturnValue, Job, Errors); OutParameters is the collection behind them.
function Get-OutParameter {
    param($Result, [string]$Name)
    if ($null -eq $Result) {
        return $null
    }
    $property = $Result.PSObject.Properties[$Name]
    if ($null -ne $property) {
        return , $property.Value
    }
    $outParameters = $Result.PSObject.Properties['OutParameters']
    if ($null -ne $outParameters -and $null -ne $outParameters.Value) {
        $parameter = $outParameters.Value[$Name]
        if ($null -ne $parameter) {
            return , $parameter.Value
        }
    }
    return $null
}

# The instance of $ClassName named by $Keys: a key-only client-side instance, read back from
# WMI with Get-CimInstance -InputObject.
function Get-KeyedInstance {
    param([string]$Namespace, [string]$ClassName, [hashtable]$Keys)
    $reference = New-CimInstance -ClientOnly -Namespace $Namespace -ClassName $ClassName -Property $Keys -Key @($Keys.Keys)
    return (Get-CimInstance -InputObject $reference)
}

function Get-ManagementService {
    param([string]$Namespace, $ExtraCalls)
    if ($ServiceCache.ContainsKey($Namespace)) {
        return $ServiceCache[$Namespace]
    }
    $ExtraCalls.Add("query $ServiceClass")
    $services = @(Get-CimInstance -Namespace $Namespace -ClassName $ServiceClass)
    if ($services.Count -eq 0) {
        throw (New-BridgeException -Kind 'not-found' -Message "the host has no $ServiceClass in $Namespace (is Hyper-V installed?)")
    }
    $ServiceCache[$Namespace] = $services[0]
    return $services[0]
}

function Invoke-QueryOp {
    param($Request)
    $namespace = Get-RequestNamespace -Request $Request
    $wql = Get-RequestString -Request $Request -Name 'wql'
    $instances = @(Get-CimInstance -Namespace $namespace -Query $wql -QueryDialect 'WQL')
    $out = [System.Collections.Generic.List[object]]::new()
    foreach ($instance in $instances) {
        $out.Add((ConvertTo-BridgeInstance -Instance $instance -Depth 0))
    }
    return , $out.ToArray()
}

function Invoke-GetOp {
    param($Request)
    $namespace = Get-RequestNamespace -Request $Request
    $className = Get-RequestIdentifier -Request $Request -Name 'className'
    $keys = Get-RequestKeys -Request $Request
    $instance = Get-KeyedInstance -Namespace $namespace -ClassName $className -Keys $keys
    return (ConvertTo-BridgeInstance -Instance $instance -Depth 0)
}

function Invoke-KvpOp {
    param($Request, $ExtraCalls)
    $namespace = Get-RequestNamespace -Request $Request
    $method = Get-RequestString -Request $Request -Name 'method'
    if ($KvpMethods -cnotcontains $method) {
        throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: method must be one of $($KvpMethods -join ', ')")
    }
    $vmId = Get-RequestString -Request $Request -Name 'vmId'
    [string[]]$dataItems = Get-RequestStringArray -Request $Request -Name 'dataItems'
    $service = Get-ManagementService -Namespace $namespace -ExtraCalls $ExtraCalls
    $ExtraCalls.Add('get Msvm_ComputerSystem')
    $vm = Get-KeyedInstance -Namespace $namespace -ClassName 'Msvm_ComputerSystem' -Keys @{ CreationClassName = 'Msvm_ComputerSystem'; Name = $vmId }
    $arguments = @{
        TargetSystem = $vm
        DataItems    = $dataItems
    }
    $result = Invoke-CimMethod -InputObject $service -MethodName $method -Arguments $arguments
    $returnValue = Get-OutParameter -Result $result -Name 'ReturnValue'
    if ($null -eq $returnValue) {
        throw (New-BridgeException -Kind 'internal' -Message "$method returned no ReturnValue")
    }
    $job = Get-OutParameter -Result $result -Name 'Job'
    $jobInfo = $null
    if (Test-CimInstance -Value $job) {
        $instanceId = $job.CimInstanceProperties['InstanceID']
        if ($null -ne $instanceId -and $null -ne $instanceId.Value) {
            $jobInfo = [ordered]@{
                className  = [string]$job.CimSystemProperties.ClassName
                instanceId = [string]$instanceId.Value
            }
        }
    }
    return [ordered]@{
        returnValue = [long]$returnValue
        job         = $jobInfo
    }
}

function Invoke-JobErrorsOp {
    param($Request, $ExtraCalls)
    $namespace = Get-RequestNamespace -Request $Request
    $className = Get-RequestIdentifier -Request $Request -Name 'className'
    $instanceId = Get-RequestString -Request $Request -Name 'instanceId'
    $ExtraCalls.Add("get $className")
    $job = Get-KeyedInstance -Namespace $namespace -ClassName $className -Keys @{ InstanceID = $instanceId }
    $result = Invoke-CimMethod -InputObject $job -MethodName 'GetErrorEx'
    $returnValue = Get-OutParameter -Result $result -Name 'ReturnValue'
    $errors = Get-OutParameter -Result $result -Name 'Errors'
    $out = [System.Collections.Generic.List[object]]::new()
    if ($null -ne $errors) {
        foreach ($entry in @($errors)) {
            if ($entry -is [string]) {
                $out.Add($entry)
            }
            elseif (Test-CimInstance -Value $entry) {
                $out.Add((ConvertTo-BridgeInstance -Instance $entry -Depth 0))
            }
            elseif ($null -ne $entry) {
                $out.Add([string]$entry)
            }
        }
    }
    $code = $null
    if ($null -ne $returnValue) {
        $code = [long]$returnValue
    }
    return [ordered]@{
        returnValue = $code
        errors      = $out.ToArray()
    }
}

function Find-CimException {
    param($Exception)
    $current = $Exception
    for ($level = 0; $level -lt 6 -and $null -ne $current; $level++) {
        if ($current.GetType().FullName -eq 'Microsoft.Management.Infrastructure.CimException') {
            return $current
        }
        $current = $current.InnerException
    }
    return $null
}

function ConvertTo-BridgeFailure {
    param($Id, $ErrorRecord, $ExtraCalls)
    $exception = $ErrorRecord.Exception
    $failure = [ordered]@{
        kind    = 'internal'
        message = [string]$ErrorRecord
    }
    if ($null -ne $exception) {
        $failure['message'] = [string]$exception.Message
        $failure['exceptionType'] = $exception.GetType().FullName
        $failure['hresult'] = [long]$exception.HResult
        if ($exception.Data.Contains($BridgeKindKey)) {
            $failure['kind'] = [string]$exception.Data[$BridgeKindKey]
        }
        else {
            $cim = Find-CimException -Exception $exception
            if ($null -ne $cim) {
                $native = [string]$cim.NativeErrorCode
                $failure['nativeErrorCode'] = $native
                $failure['hresult'] = [long]$cim.HResult
                if ($native -eq 'NotFound') {
                    $failure['kind'] = 'not-found'
                }
                elseif ($native -eq 'AccessDenied') {
                    $failure['kind'] = 'access-denied'
                }
                else {
                    $failure['kind'] = 'cim'
                }
            }
        }
    }
    $answer = [ordered]@{
        id    = $Id
        ok    = $false
        error = $failure
    }
    if ($null -ne $ExtraCalls -and $ExtraCalls.Count -gt 0) {
        $answer['extraCalls'] = $ExtraCalls.ToArray()
    }
    return $answer
}

function Invoke-BridgeRequest {
    param([string]$Line)
    $id = $null
    $extraCalls = [System.Collections.Generic.List[string]]::new()
    try {
        if ($Line.Length -gt $MaxRequestChars) {
            throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: longer than $MaxRequestChars characters")
        }
        $request = ConvertFrom-Json -InputObject $Line
        if ($request -isnot [System.Management.Automation.PSCustomObject]) {
            throw (New-BridgeException -Kind 'invalid-request' -Message 'invalid request: not a JSON object')
        }
        $candidate = Get-RequestValue -Request $request -Name 'id'
        if (-not (Test-RequestId -Id $candidate)) {
            throw (New-BridgeException -Kind 'invalid-request' -Message "invalid request: 'id' must be a non-negative integer")
        }
        $id = $candidate
        $op = Get-RequestString -Request $request -Name 'op'
        if ($op -ceq 'query') {
            $result = Invoke-QueryOp -Request $request
        }
        elseif ($op -ceq 'get') {
            $result = Invoke-GetOp -Request $request
        }
        elseif ($op -ceq 'invokeKvp') {
            $result = Invoke-KvpOp -Request $request -ExtraCalls $extraCalls
        }
        elseif ($op -ceq 'jobErrors') {
            $result = Invoke-JobErrorsOp -Request $request -ExtraCalls $extraCalls
        }
        else {
            throw (New-BridgeException -Kind 'invalid-request' -Message 'invalid request: unknown op')
        }
        $answer = [ordered]@{
            id     = $id
            ok     = $true
            result = $result
        }
        if ($extraCalls.Count -gt 0) {
            $answer['extraCalls'] = $extraCalls.ToArray()
        }
        return $answer
    }
    catch {
        return (ConvertTo-BridgeFailure -Id $id -ErrorRecord $_ -ExtraCalls $extraCalls)
    }
}

function Write-BridgeLine {
    param($Message)
    $json = ConvertTo-Json -InputObject $Message -Compress -Depth $JsonDepth
    $Writer.WriteLine($json)
}

# Standard input and output are read and written as raw UTF-8 streams of our own, so neither
# the console code page nor a BOM can reach the protocol. The console encodings are set too,
# for anything the host itself writes (it may have no console: then they stay as they are).
$Utf8NoBom = [System.Text.UTF8Encoding]::new($false)
try {
    [Console]::InputEncoding = $Utf8NoBom
}
catch {
    $null = $_
}
try {
    [Console]::OutputEncoding = $Utf8NoBom
}
catch {
    $null = $_
}
$Reader = [System.IO.StreamReader]::new([Console]::OpenStandardInput(), $Utf8NoBom, $false)
$Writer = [System.IO.StreamWriter]::new([Console]::OpenStandardOutput(), $Utf8NoBom)
$Writer.NewLine = "`n"
$Writer.AutoFlush = $true

# Windows PowerShell 5.1's type data gives System.Array a Count property that makes
# ConvertTo-Json write some arrays as {"value":[...],"Count":n}; pwsh has no such entry.
if ($PSVersionTable.PSVersion.Major -lt 6) {
    Remove-TypeData -TypeName 'System.Array' -ErrorAction SilentlyContinue
}
# Fail before the hello, with the reason on standard error, where CIM cmdlets are missing.
Import-Module -Name 'CimCmdlets'

Write-BridgeLine ([ordered]@{
        bridge    = $BridgeName
        protocol  = $ProtocolVersion
        psVersion = $PSVersionTable.PSVersion.ToString()
        psEdition = [string]$PSVersionTable['PSEdition']
        pid       = $PID
    })

while ($true) {
    $line = $Reader.ReadLine()
    if ($null -eq $line) {
        break
    }
    if ($line.Trim().Length -eq 0) {
        continue
    }
    $answer = Invoke-BridgeRequest -Line $line
    try {
        Write-BridgeLine $answer
    }
    catch {
        # The answer could not be written as JSON: say so under the same id.
        $fallback = ConvertTo-BridgeFailure -Id $answer['id'] -ErrorRecord $_ -ExtraCalls $null
        $fallback['error']['kind'] = 'internal'
        Write-BridgeLine $fallback
    }
}
$Writer.Flush()
exit 0
