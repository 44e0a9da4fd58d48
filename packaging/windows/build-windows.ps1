# Build the Windows installer: PyInstaller onedir, a smoke run of the frozen app, then Inno Setup.
#
#   pwsh packaging/windows/build-windows.ps1 [-Out dist]
#
# Needs Python 3.11+ on PATH and Inno Setup 6 (ISCC.exe; preinstalled on GitHub's windows runners,
# otherwise: choco install innosetup). Output: dist\assistant-app-<version>-windows-x64-setup.exe
param([string]$Out = "dist")
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root

$Venv = Join-Path $Root "build\venv-dist"
$Py = Join-Path $Venv "Scripts\python.exe"
if (-not (Test-Path $Py)) {
    python -m venv $Venv
    & $Py -m pip install -q -U pip
    # The app and PyInstaller only: test tools would end up in the bundle.
    & $Py -m pip install -q . -r packaging\requirements-build.txt
    if ($LASTEXITCODE -ne 0) { throw "pip install failed" }
}
& $Py -m pip install -q --no-deps --force-reinstall .
if ($LASTEXITCODE -ne 0) { throw "pip install of the app failed" }
$Version = (& $Py -c "from importlib.metadata import version; print(version('assistant-app'))").Trim()

$Work = Join-Path $Root "build\pyinstaller"
Push-Location (Join-Path $Root "build")
& (Join-Path $Venv "Scripts\pyinstaller.exe") --noconfirm --log-level WARN `
    --distpath (Join-Path $Work "dist") --workpath (Join-Path $Work "work") (Join-Path $Root "packaging\assistant-app.spec")
$rc = $LASTEXITCODE
Pop-Location
if ($rc -ne 0) { throw "pyinstaller failed" }
$Bundle = Join-Path $Work "dist\assistant-app"

# The windowed exe has no console: `doctor --output` writes its report to a file.
$Report = Join-Path $Work "doctor.json"
$p = Start-Process -FilePath (Join-Path $Bundle "assistant-app.exe") -ArgumentList @("doctor", "--no-keyring-probe", "--output", $Report) -Wait -PassThru
if ($p.ExitCode -ne 0 -or -not (Test-Path $Report)) { throw "the frozen app failed to run 'doctor'" }
$doctor = Get-Content $Report -Raw | ConvertFrom-Json
if (-not $doctor.frozen) { throw "doctor did not run frozen" }
Write-Host "doctor: version $($doctor.version), keyring $($doctor.keyring.backend), audio available: $($doctor.audio.available)"

$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe" }
if (-not (Test-Path $Iscc)) { throw "Inno Setup 6 (ISCC.exe) not found; install it: choco install innosetup" }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
$OutDir = (Resolve-Path $Out).Path
& $Iscc "/DAppVersion=$Version" "/DSourceDir=$Bundle" "/O$OutDir" (Join-Path $Root "packaging\windows\assistant-app.iss")
if ($LASTEXITCODE -ne 0) { throw "ISCC failed" }
Get-ChildItem $OutDir -Filter "assistant-app-$Version-windows-*-setup.exe" | ForEach-Object { Write-Host $_.FullName }
