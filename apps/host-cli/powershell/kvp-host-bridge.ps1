#Requires -Version 5.1
<#
.SYNOPSIS
    kvp-host's bridge to the WMI of this machine: generic CIM operations as JSON lines, limited
    to what kvp-host uses.

.DESCRIPTION
    kvp-host (apps/host-cli/src/transports/powershell.ts) starts this script once per run as

        powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File kvp-host-bridge.ps1

    (or pwsh with the same arguments). The script writes one hello line, then reads one JSON
    request per line on standard input and writes exactly one JSON answer line for each on
    standard output, until standard input ends. Both directions are UTF-8 without a BOM, lines
    end with LF. The protocol (version 2) is documented once, in
    src/transports/powershell-protocol.ts; this script and the test stand-in
    (src/test-support/powershell-stand-in.ts) both follow it:

      hello     {"bridge":"kvp-host-bridge","protocol":2,"psVersion":"5.1...","psEdition":"Desktop","pid":1234}
      query     {"id":1,"op":"query","namespace":"root/virtualization/v2","wql":"SELECT * FROM Msvm_ComputerSystem WHERE ..."}
                -> {"id":1,"ok":true,"result":[{"className":"...","properties":{...}}, ...]}
      enumerate {"id":2,"op":"enumerate","namespace":"...","className":"Msvm_VirtualSystemManagementService"}
                {"id":3,"op":"enumerate","source":PATH,"assocClass":"...","resultClass":"..."}
                -> {"id":2,"ok":true,"result":[...instances...]}
      get       {"id":4,"op":"get","path":PATH} -> {"id":4,"ok":true,"result":{"className":"...","properties":{...}}}
      invoke    {"id":5,"op":"invoke","path":PATH,"method":"AddKvpItems","arguments":{"TargetSystem":{"path":PATH},"DataItems":["<INSTANCE ..."]}}
                -> {"id":5,"ok":true,"result":{"returnValue":4096,"outputs":{"Job":{"className":"Msvm_ConcreteJob","properties":{...}}}}}
      failure   -> {"id":N,"ok":false,"error":{"kind":"not-found|access-denied|cim|invalid-request|internal","message":"...",...}}

      PATH = {"namespace":"root/virtualization/v2","className":"Msvm_ComputerSystem","keys":{"CreationClassName":"Msvm_ComputerSystem","Name":"GUID"}}

    Every request is checked against the allow-list below before any CIM cmdlet runs: the
    namespaces, the classes queried, enumerated or read, the associations followed, the
    methods called and their parameters are those kvp-host uses (its Hyper-V logic, in
    src/hyperv-wmi.ts; src/transports/bridge-allow-list.ts holds the same lists). Anything
    else is refused as invalid-request.

    Safety: every value of a request reaches the CIM cmdlets as a parameter value; nothing of a
    request ever becomes script text: no Invoke-Expression, no script block at all, no
    Add-Type. WQL is passed on only when it is exactly SELECT * FROM an allowed class with
    equality conditions. One request failing (try/catch around each) never ends the loop.

    One CIM cmdlet call per request: an instance named by a path is the one WMI gave this
    bridge earlier (a query's VM, the enumerated service, a method's Job), else a key-only
    client-side instance (New-CimInstance -ClientOnly, no WMI call). Only the target of
    Invoke-CimMethod must come from WMI (the cmdlet reads the method's parameter types from
    it): a bridge restarted since kvp-host found the service reads it once more.

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
$ProtocolVersion = 2
# kvp-host sends at most 128 KVP items per call, each a few KiB of CIM-XML; 16 Mi characters
# is far above any real request and keeps a runaway line from filling memory twice over.
$MaxRequestChars = 16 * 1024 * 1024
# Embedded instances nest one level in practice (an Msvm_Error in an output); more is refused.
$MaxInstanceDepth = 4
# ConvertTo-Json's depth: answer, result, instance, properties, arrays and embedded instances
# stay well under it (Windows PowerShell 5.1 silently cuts deeper objects).
$JsonDepth = 24
$IdentifierPattern = '^[A-Za-z_][A-Za-z0-9_]{0,255}$'
$MaxPathKeys = 16
# Instances WMI gave this bridge, for later requests that name them by path.
$MaxKnownInstances = 512
$BridgeKindKey = 'KvpHostBridgeKind'
# Largest integer JavaScript reads exactly (2^53 - 1); bigger ones travel as strings.
$MaxSafeInteger = 9007199254740991
$SmallNumberTypes = @('System.Byte', 'System.SByte', 'System.Int16', 'System.UInt16', 'System.Int32', 'System.UInt32')

# ---- The allow-list (src/transports/bridge-allow-list.ts holds the same) ------------------
$AllowedNamespaces = @('root/virtualization/v2', 'root/HyperVCluster/v2')
$AllowedQueryClasses = @('Msvm_ComputerSystem', 'Msvm_KvpExchangeComponent')
$AllowedEnumerateClasses = @('Msvm_VirtualSystemManagementService')
$AllowedAssociations = @(
    'Msvm_ComputerSystem/Msvm_SettingsDefineState/Msvm_VirtualSystemSettingData',
    'Msvm_VirtualSystemSettingData/Msvm_VirtualSystemSettingDataComponent/Msvm_KvpExchangeComponentSettingData'
)
$AllowedGetClasses = @('Msvm_ConcreteJob')
# Class.Method = its parameters in order: Name:string, Name:string[] or Name:Class (a reference).
$AllowedMethods = [ordered]@{
    'Msvm_VirtualSystemManagementService.AddKvpItems'    = 'TargetSystem:Msvm_ComputerSystem,DataItems:string[]'
    'Msvm_VirtualSystemManagementService.ModifyKvpItems' = 'TargetSystem:Msvm_ComputerSystem,DataItems:string[]'
    'Msvm_VirtualSystemManagementService.RemoveKvpItems' = 'TargetSystem:Msvm_ComputerSystem,DataItems:string[]'
    'Msvm_ConcreteJob.GetErrorEx'                        = ''
}
$MaxWqlChars = 4096
# The only WQL passed on: SELECT * FROM Class, optionally WHERE Prop="text" joined by AND,
# strings escaped as kvp-host writes them (a backslash before \ and ").
$WqlSelectPattern = '^SELECT \* FROM (?<class>[A-Za-z_][A-Za-z0-9_]{0,255})(?: WHERE [A-Za-z_][A-Za-z0-9_]{0,255}="(?:[^"\\]|\\[\\"])*"(?: AND [A-Za-z_][A-Za-z0-9_]{0,255}="(?:[^"\\]|\\[\\"])*"){0,15})?$'
# --------------------------------------------------------------------------------------------

$KnownInstances = [System.Collections.Generic.List[object]]::new()

function New-BridgeException {
    param([string]$Kind, [string]$Message)
    $exception = [System.InvalidOperationException]::new($Message)
    $exception.Data[$BridgeKindKey] = $Kind
    return $exception
}

function New-InvalidRequest {
    param([string]$Message)
    return (New-BridgeException -Kind 'invalid-request' -Message "invalid request: $Message")
}

function Test-CimInstance {
    param($Value)
    if ($null -eq $Value) {
        return $false
    }
    return ($Value.GetType().FullName -eq 'Microsoft.Management.Infrastructure.CimInstance')
}

# ---- Reading requests -----------------------------------------------------------------------

function Get-RequestValue {
    param($Object, [string]$Name)
    if ($Object -isnot [System.Management.Automation.PSCustomObject]) {
        return $null
    }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) {
        return $null
    }
    return , $property.Value
}

function Get-RequestString {
    param($Object, [string]$Name)
    $value = Get-RequestValue -Object $Object -Name $Name
    if ($value -isnot [string]) {
        throw (New-InvalidRequest -Message "'$Name' must be a string")
    }
    return $value
}

function Get-RequestIdentifier {
    param($Object, [string]$Name)
    $value = Get-RequestString -Object $Object -Name $Name
    if ($value -cnotmatch $IdentifierPattern) {
        throw (New-InvalidRequest -Message "'$Name' must be a CIM identifier")
    }
    return $value
}

function Test-RequestId {
    param($Id)
    return (($Id -is [int] -or $Id -is [long]) -and $Id -ge 0)
}

# A path {namespace, className, keys} as a hashtable: Namespace, ClassName, Bindings (key name -> text).
function Get-RequestPath {
    param($Object, [string]$Name)
    $value = Get-RequestValue -Object $Object -Name $Name
    if ($value -isnot [System.Management.Automation.PSCustomObject]) {
        throw (New-InvalidRequest -Message "'$Name' must be a path")
    }
    $keys = Get-RequestValue -Object $value -Name 'keys'
    if ($keys -isnot [System.Management.Automation.PSCustomObject]) {
        throw (New-InvalidRequest -Message "'$Name' must have keys")
    }
    $table = [ordered]@{}
    foreach ($property in $keys.PSObject.Properties) {
        if ($property.Name -cnotmatch $IdentifierPattern -or $property.Value -isnot [string]) {
            throw (New-InvalidRequest -Message "the keys of '$Name' must map CIM identifiers to strings")
        }
        $table[$property.Name] = $property.Value
    }
    # PSBase: a key named Count (or Keys) must not stand in for the dictionary's own member.
    if ($table.PSBase.Count -eq 0 -or $table.PSBase.Count -gt $MaxPathKeys) {
        throw (New-InvalidRequest -Message "'$Name' must have 1 to $MaxPathKeys keys")
    }
    return @{
        Namespace = Get-RequestString -Object $value -Name 'namespace'
        ClassName = Get-RequestIdentifier -Object $value -Name 'className'
        Bindings  = $table
    }
}

# ---- The allow-list checks: each operation calls its own before any CIM cmdlet -------------

# The namespace as the allow-list spells it; either slash and any case are accepted, as WMI does.
function Assert-AllowedNamespace {
    param([string]$Namespace)
    $wanted = $Namespace.Replace('\', '/')
    foreach ($allowed in $AllowedNamespaces) {
        if ([string]::Equals($allowed, $wanted, [System.StringComparison]::OrdinalIgnoreCase)) {
            return $allowed
        }
    }
    throw (New-InvalidRequest -Message "namespace '$Namespace' is not one kvp-host uses")
}

function Assert-AllowedQuery {
    param([string]$Namespace, [string]$Wql)
    $allowedNamespace = Assert-AllowedNamespace -Namespace $Namespace
    if ($Wql.Length -gt $MaxWqlChars) {
        throw (New-InvalidRequest -Message "WQL longer than $MaxWqlChars characters")
    }
    if ($Wql -cnotmatch $WqlSelectPattern) {
        throw (New-InvalidRequest -Message 'WQL must be SELECT * FROM a class with equality conditions')
    }
    $className = $Matches['class']
    if ($AllowedQueryClasses -cnotcontains $className) {
        throw (New-InvalidRequest -Message "query of $className is not allowed")
    }
    return $allowedNamespace
}

function Assert-AllowedEnumeration {
    param([string]$Namespace, [string]$ClassName)
    $allowedNamespace = Assert-AllowedNamespace -Namespace $Namespace
    if ($AllowedEnumerateClasses -cnotcontains $ClassName) {
        throw (New-InvalidRequest -Message "enumeration of $ClassName is not allowed")
    }
    return $allowedNamespace
}

function Assert-AllowedAssociation {
    param([hashtable]$Source, [string]$AssocClass, [string]$ResultClass)
    $allowedNamespace = Assert-AllowedNamespace -Namespace $Source.Namespace
    $association = "$($Source.ClassName)/$AssocClass/$ResultClass"
    if ($AllowedAssociations -cnotcontains $association) {
        throw (New-InvalidRequest -Message "association $association is not allowed")
    }
    return $allowedNamespace
}

function Assert-AllowedGet {
    param([hashtable]$Path)
    $allowedNamespace = Assert-AllowedNamespace -Namespace $Path.Namespace
    if ($AllowedGetClasses -cnotcontains $Path.ClassName) {
        throw (New-InvalidRequest -Message "get of $($Path.ClassName) is not allowed")
    }
    return $allowedNamespace
}

# The method's parameters as a list of @{ Name; Type }, once the call is allowed.
function Assert-AllowedInvoke {
    param([hashtable]$Path, [string]$Method, $Arguments)
    $null = Assert-AllowedNamespace -Namespace $Path.Namespace
    $name = "$($Path.ClassName).$Method"
    # Exact case, as kvp-host writes the names ([ordered] dictionaries ignore case).
    $signature = $null
    foreach ($allowed in $AllowedMethods.Keys) {
        if ($allowed -ceq $name) {
            $signature = [string]$AllowedMethods[$allowed]
        }
    }
    if ($null -eq $signature) {
        throw (New-InvalidRequest -Message "method $name is not allowed")
    }
    $parameters = [System.Collections.Generic.List[object]]::new()
    if ($signature.Length -gt 0) {
        foreach ($entry in $signature.Split(',')) {
            $parts = $entry.Split(':')
            $parameters.Add(@{ Name = $parts[0]; Type = $parts[1] })
        }
    }
    if ($Arguments -isnot [System.Management.Automation.PSCustomObject]) {
        throw (New-InvalidRequest -Message "'arguments' must be an object")
    }
    $given = @($Arguments.PSObject.Properties)
    $expected = [System.Collections.Generic.List[string]]::new()
    foreach ($parameter in $parameters) {
        $expected.Add($parameter.Name)
    }
    foreach ($property in $given) {
        if ($expected -cnotcontains $property.Name) {
            throw (New-InvalidRequest -Message "$Method takes no argument $($property.Name)")
        }
    }
    if ($given.Count -ne $parameters.Count) {
        throw (New-InvalidRequest -Message "$Method takes $($expected -join ', ')")
    }
    return , $parameters.ToArray()
}

# ---- Instances ------------------------------------------------------------------------------

function Test-PathMatch {
    param($Instance, [hashtable]$Path)
    if (-not [string]::Equals([string]$Instance.CimSystemProperties.ClassName, $Path.ClassName, [System.StringComparison]::OrdinalIgnoreCase)) {
        return $false
    }
    $namespace = ([string]$Instance.CimSystemProperties.Namespace).Replace('\', '/')
    if (-not [string]::Equals($namespace, $Path.Namespace.Replace('\', '/'), [System.StringComparison]::OrdinalIgnoreCase)) {
        return $false
    }
    foreach ($key in $Path.Bindings.PSBase.Keys) {
        $property = $Instance.CimInstanceProperties[$key]
        if ($null -eq $property -or $null -eq $property.Value) {
            return $false
        }
        if (-not [string]::Equals([string]$property.Value, [string]$Path.Bindings[$key], [System.StringComparison]::OrdinalIgnoreCase)) {
            return $false
        }
    }
    return $true
}

function Add-KnownInstance {
    param($Instance)
    if (-not (Test-CimInstance -Value $Instance)) {
        return
    }
    $KnownInstances.Add($Instance)
    if ($KnownInstances.Count -gt $MaxKnownInstances) {
        $KnownInstances.RemoveAt(0)
    }
}

# The instance WMI gave this bridge for $Path (the latest), or $null.
function Find-KnownInstance {
    param([hashtable]$Path)
    for ($i = $KnownInstances.Count - 1; $i -ge 0; $i--) {
        if (Test-PathMatch -Instance $KnownInstances[$i] -Path $Path) {
            return $KnownInstances[$i]
        }
    }
    return $null
}

# $Path as an instance the CIM cmdlets take: a known one, else a key-only client-side instance
# (no WMI call), in the allow-list's spelling of the namespace.
function ConvertTo-PathInstance {
    param([hashtable]$Path, [string]$Namespace)
    $known = Find-KnownInstance -Path $Path
    if ($null -ne $known) {
        return $known
    }
    $keys = @{}
    foreach ($key in $Path.Bindings.PSBase.Keys) {
        $keys[$key] = [string]$Path.Bindings[$key]
    }
    $keyNames = [string[]]@($keys.PSBase.Keys)
    return (New-CimInstance -ClientOnly -Namespace $Namespace -ClassName $Path.ClassName -Property $keys -Key $keyNames)
}

# ---- Writing answers ------------------------------------------------------------------------

# One value as the protocol writes it: null, string, number, boolean, an instance
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

# Instances as an answer's result (one array, never unrolled); each is remembered for later
# requests that name it by path.
function ConvertTo-BridgeInstances {
    param($Instances)
    $out = [System.Collections.Generic.List[object]]::new()
    foreach ($instance in @($Instances)) {
        if ($null -eq $instance) {
            continue
        }
        Add-KnownInstance -Instance $instance
        $out.Add((ConvertTo-BridgeInstance -Instance $instance -Depth 0))
    }
    return , $out.ToArray()
}

# ---- The four operations: check, then one CIM cmdlet call ----------------------------------

function Invoke-QueryOp {
    param($Request)
    $wql = Get-RequestString -Object $Request -Name 'wql'
    $namespace = Assert-AllowedQuery -Namespace (Get-RequestString -Object $Request -Name 'namespace') -Wql $wql
    $found = Get-CimInstance -Namespace $namespace -Query $wql -QueryDialect 'WQL'
    $instances = ConvertTo-BridgeInstances -Instances $found
    return , $instances
}

function Invoke-EnumerateOp {
    param($Request)
    if ($null -eq (Get-RequestValue -Object $Request -Name 'source')) {
        $className = Get-RequestIdentifier -Object $Request -Name 'className'
        $namespace = Assert-AllowedEnumeration -Namespace (Get-RequestString -Object $Request -Name 'namespace') -ClassName $className
        $found = Get-CimInstance -Namespace $namespace -ClassName $className
        $instances = ConvertTo-BridgeInstances -Instances $found
        return , $instances
    }
    $source = Get-RequestPath -Object $Request -Name 'source'
    $assocClass = Get-RequestIdentifier -Object $Request -Name 'assocClass'
    $resultClass = Get-RequestIdentifier -Object $Request -Name 'resultClass'
    $namespace = Assert-AllowedAssociation -Source $source -AssocClass $assocClass -ResultClass $resultClass
    $sourceInstance = ConvertTo-PathInstance -Path $source -Namespace $namespace
    $found = Get-CimAssociatedInstance -Namespace $namespace -InputObject $sourceInstance -Association $assocClass -ResultClassName $resultClass
    $instances = ConvertTo-BridgeInstances -Instances $found
    return , $instances
}

function Invoke-GetOp {
    param($Request)
    $path = Get-RequestPath -Object $Request -Name 'path'
    $namespace = Assert-AllowedGet -Path $path
    $reference = ConvertTo-PathInstance -Path $path -Namespace $namespace
    $instance = Get-CimInstance -InputObject $reference
    Add-KnownInstance -Instance $instance
    return (ConvertTo-BridgeInstance -Instance $instance -Depth 0)
}

function Invoke-InvokeOp {
    param($Request)
    $path = Get-RequestPath -Object $Request -Name 'path'
    $method = Get-RequestIdentifier -Object $Request -Name 'method'
    $given = Get-RequestValue -Object $Request -Name 'arguments'
    $parameters = Assert-AllowedInvoke -Path $path -Method $method -Arguments $given
    $namespace = Assert-AllowedNamespace -Namespace $path.Namespace
    $arguments = [ordered]@{}
    foreach ($parameter in $parameters) {
        $value = Get-RequestValue -Object $given -Name $parameter.Name
        if ($parameter.Type -ceq 'string') {
            if ($value -isnot [string]) {
                throw (New-InvalidRequest -Message "argument $($parameter.Name) must be a string")
            }
            $arguments[$parameter.Name] = $value
        }
        elseif ($parameter.Type -ceq 'string[]') {
            if ($null -eq $value -or $value -isnot [System.Array]) {
                throw (New-InvalidRequest -Message "argument $($parameter.Name) must be an array of strings")
            }
            $strings = [System.Collections.Generic.List[string]]::new()
            foreach ($item in $value) {
                if ($item -isnot [string]) {
                    throw (New-InvalidRequest -Message "argument $($parameter.Name) must be an array of strings")
                }
                $strings.Add($item)
            }
            $arguments[$parameter.Name] = [string[]]$strings.ToArray()
        }
        else {
            # A reference to an instance of the class the signature names, in an allowed namespace.
            $reference = Get-RequestPath -Object $value -Name 'path'
            if ($reference.ClassName -cne $parameter.Type) {
                throw (New-InvalidRequest -Message "argument $($parameter.Name) must be a reference to $($parameter.Type)")
            }
            $referenceNamespace = Assert-AllowedNamespace -Namespace $reference.Namespace
            $arguments[$parameter.Name] = ConvertTo-PathInstance -Path $reference -Namespace $referenceNamespace
        }
    }
    $target = Find-KnownInstance -Path $path
    if ($null -eq $target) {
        # Invoke-CimMethod reads the parameters' types from the instance's class: it must come from WMI.
        $keyOnly = ConvertTo-PathInstance -Path $path -Namespace $namespace
        $target = Get-CimInstance -InputObject $keyOnly
        Add-KnownInstance -Instance $target
    }
    $result = Invoke-CimMethod -InputObject $target -MethodName $method -Arguments $arguments
    return (ConvertTo-MethodResult -Result $result -Method $method)
}

# Invoke-CimMethod's output: ReturnValue and one note property per output parameter.
function ConvertTo-MethodResult {
    param($Result, [string]$Method)
    if ($null -eq $Result) {
        throw (New-BridgeException -Kind 'internal' -Message "$Method returned nothing")
    }
    $returnValue = $null
    $outputs = [ordered]@{}
    foreach ($property in $Result.PSObject.Properties) {
        if ($property.Name -ceq 'ReturnValue') {
            $returnValue = $property.Value
        }
        elseif ($property.Name -cne 'PSComputerName') {
            if (Test-CimInstance -Value $property.Value) {
                Add-KnownInstance -Instance $property.Value
            }
            $outputs[$property.Name] = ConvertTo-BridgeValue -Value $property.Value -Depth 0
        }
    }
    if ($null -eq $returnValue) {
        throw (New-BridgeException -Kind 'internal' -Message "$Method returned no ReturnValue")
    }
    return [ordered]@{
        returnValue = [long]$returnValue
        outputs     = $outputs
    }
}

# ---- Failures and the loop ------------------------------------------------------------------

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
    param($Id, $ErrorRecord)
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
    return [ordered]@{
        id    = $Id
        ok    = $false
        error = $failure
    }
}

function Invoke-BridgeRequest {
    param([string]$Line)
    $id = $null
    try {
        if ($Line.Length -gt $MaxRequestChars) {
            throw (New-InvalidRequest -Message "longer than $MaxRequestChars characters")
        }
        $request = ConvertFrom-Json -InputObject $Line
        if ($request -isnot [System.Management.Automation.PSCustomObject]) {
            throw (New-InvalidRequest -Message 'not a JSON object')
        }
        $candidate = Get-RequestValue -Object $request -Name 'id'
        if (-not (Test-RequestId -Id $candidate)) {
            throw (New-InvalidRequest -Message "'id' must be a non-negative integer")
        }
        $id = $candidate
        $op = Get-RequestString -Object $request -Name 'op'
        if ($op -ceq 'query') {
            $result = Invoke-QueryOp -Request $request
        }
        elseif ($op -ceq 'enumerate') {
            $result = Invoke-EnumerateOp -Request $request
        }
        elseif ($op -ceq 'get') {
            $result = Invoke-GetOp -Request $request
        }
        elseif ($op -ceq 'invoke') {
            $result = Invoke-InvokeOp -Request $request
        }
        else {
            throw (New-InvalidRequest -Message 'unknown op')
        }
        return [ordered]@{
            id     = $id
            ok     = $true
            result = $result
        }
    }
    catch {
        return (ConvertTo-BridgeFailure -Id $id -ErrorRecord $_)
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
        $fallback = ConvertTo-BridgeFailure -Id $answer['id'] -ErrorRecord $_
        $fallback['error']['kind'] = 'internal'
        Write-BridgeLine $fallback
    }
}
$Writer.Flush()
exit 0
