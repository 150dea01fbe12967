# Build the Windows installer: dist\uv-drive-guard\ (PyInstaller), then
# dist\uv-drive-guard-setup-<version>.exe (Inno Setup 6.3 or later).
#
#   powershell -ExecutionPolicy Bypass -File installers\windows\build.ps1
#
# Needs Python 3.10+ (py launcher or python on PATH) and Inno Setup 6.3 or later (iscc.exe; `winget install
# JRSoftware.InnoSetup`). -SkipInstaller stops after the PyInstaller build.
[CmdletBinding()]
param(
    [string]$Python = "",
    [switch]$SkipInstaller
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Root = (Resolve-Path (Join-Path $Here "..\..")).Path
Set-Location $Root

function Invoke-Checked {
    param([string]$Exe, [string[]]$Arguments)
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

if (-not $Python) {
    if (Get-Command py -ErrorAction SilentlyContinue) { $Python = "py" } else { $Python = "python" }
}
$Venv = Join-Path $Root "build\windows-venv"
Invoke-Checked $Python @("-m", "venv", $Venv)
$VenvPython = Join-Path $Venv "Scripts\python.exe"
Invoke-Checked $VenvPython @("-m", "pip", "install", "-q", "--upgrade", "pip")
Invoke-Checked $VenvPython @("-m", "pip", "install", "-q", $Root, "pyinstaller")

Invoke-Checked $VenvPython @(
    "-m", "PyInstaller", "--noconfirm", "--clean",
    "--distpath", (Join-Path $Root "dist"), "--workpath", (Join-Path $Root "build\windows"),
    (Join-Path $Here "uv-drive-guard.spec")
)
$Cli = Join-Path $Root "dist\uv-drive-guard\uv-drive-guard-cli.exe"
Invoke-Checked $Cli @("--version")

if ($SkipInstaller) { return }

$Version = (& $VenvPython -c "import uv_drive_guard; print(uv_drive_guard.__version__)").Trim()
$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) {
    foreach ($Candidate in @(
        "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
        "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
        "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe"
    )) {
        if (Test-Path $Candidate) { $Iscc = $Candidate; break }
    }
}
if (-not $Iscc) { throw "Inno Setup 6 (ISCC.exe) not found: winget install JRSoftware.InnoSetup" }
Invoke-Checked $Iscc @("/DAppVersion=$Version", (Join-Path $Here "uv-drive-guard.iss"))
Write-Host "Installer: $(Join-Path $Root "dist\uv-drive-guard-setup-$Version.exe")"
