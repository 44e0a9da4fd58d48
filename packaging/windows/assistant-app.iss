; Inno Setup 6 script for assistant-app: a per-user installer of the PyInstaller onedir.
;
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\build\pyinstaller\dist\assistant-app /O..\..\dist assistant-app.iss
;   (packaging\windows\build-windows.ps1 does this.)
;
; Per user: no administrator rights, installed to %LOCALAPPDATA%\Programs\Assistant.
; User data lives elsewhere, in %APPDATA%\assistant-app (conversations, settings, logs) and in the Windows
; Credential Manager (API keys). Neither this installer, an upgrade, nor the uninstaller touches it: there is
; deliberately no [UninstallDelete]/[InstallDelete] entry outside {app}. Uninstalling and reinstalling finds
; the user's conversations again.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\pyinstaller\dist\assistant-app"
#endif
#define AppName "Assistant"
#define AppExe "assistant-app.exe"

[Setup]
; Fixed forever: Windows identifies the installed app (upgrades, uninstall entry) by this GUID.
AppId={{6F3C2B8E-4D1A-4E7B-9A25-3C8D7E1F0B64}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=assistant-app developers
VersionInfoVersion={#AppVersion}
; Per-user install: no UAC prompt, nothing written outside the user's profile.
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputBaseFilename=assistant-app-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\assistant-app.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; An upgrade while the app runs: ask to close it (Restart Manager) instead of failing on locked files.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle, so modules removed in the new version do not linger. Only {app}.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Desktop assistant for OpenAI-compatible servers"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
