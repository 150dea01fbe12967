; Inno Setup 6.3+ script: a per-user installer for uv-drive-guard (no administrator rights).
;
;   iscc /DAppVersion=0.1.0 installers\windows\uv-drive-guard.iss
;
; build.ps1 runs PyInstaller first (dist\uv-drive-guard\) and passes the version.
; Installs to %LOCALAPPDATA%\Programs\uv-drive-guard, adds a Start-menu shortcut whose
; AppUserModelID is uv-drive-guard, the id desktop-notifier sends its toasts under (its
; winrt backend uses the app name when the program is not a packaged app), so the toasts carry
; the name and icon registered here; and starts the daemon at login through the per-user Run key,
; the same value `uv-drive-guard autostart enable` and the tray's "Start at login" write.
; Uninstalling removes the program, the shortcut and the Run value; the settings, the fix
; journal and the log in %LOCALAPPDATA%\uv-drive-guard stay.

; ArchitecturesAllowed=x64compatible below exists from Inno Setup 6.3 on; older compilers reject it.
#if VER < EncodeVer(6,3,0)
  #error Inno Setup 6.3 or later is needed (x64compatible); install the current Inno Setup 6
#endif

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "uv-drive-guard"
#define AppExe "uv-drive-guard.exe"
#define AppUserModelID "uv-drive-guard"
#define AppId "io.github.uv-drive-guard"
#define Dist "..\..\dist\uv-drive-guard"

[Setup]
AppId={#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=uv-drive-guard contributors
AppComments=Warns when uv will break on a drive you plug in, and fixes it
DefaultDirName={localappdata}\Programs\{#AppName}
DisableDirPage=auto
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-setup-{#AppVersion}
SetupIconFile=..\..\icons\app.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
; A running daemon holds its files open: close it (Restart Manager) before replacing them.
CloseApplications=yes
RestartApplications=no
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "autostart"; Description: "Start {#AppName} when I sign in"; GroupDescription: "Start at login:"

[Files]
Source: "{#Dist}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "run"; \
  WorkingDir: "{app}"; IconFilename: "{app}\{#AppExe}"; AppUserModelID: "{#AppUserModelID}"; \
  Comment: "Warns when uv will break on a drive you plug in"

[Registry]
; Start at login: HKCU\...\Run, value "uv-drive-guard" = "<app>\uv-drive-guard.exe" run.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; \
  ValueName: "{#AppName}"; ValueData: """{app}\{#AppExe}"" run"; Flags: uninsdeletevalue; Tasks: autostart
; Also remove the value on uninstall when start at login was switched on later, from the tray.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: none; \
  ValueName: "{#AppName}"; Flags: uninsdeletevalue dontcreatekey
; Task Manager's on/off switch for that entry, if the user ever flipped it.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"; \
  ValueType: none; ValueName: "{#AppName}"; Flags: uninsdeletevalue dontcreatekey
; The toast sender's name and icon for the AppUserModelID of the shortcut.
Root: HKCU; Subkey: "Software\Classes\AppUserModelId\{#AppUserModelID}"; ValueType: string; \
  ValueName: "DisplayName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\AppUserModelId\{#AppUserModelID}"; ValueType: string; \
  ValueName: "IconUri"; ValueData: "{app}\_internal\icons\app.png"

[Run]
Filename: "{app}\{#AppExe}"; Parameters: "run"; Description: "Start {#AppName} now"; \
  Flags: nowait postinstall skipifsilent

[UninstallRun]
; Stop the daemon first, so its files can be removed. Only this user's processes can be ended
; by a per-user uninstaller.
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM {#AppExe} /FI ""USERNAME eq {username}"""; \
  Flags: runhidden; RunOnceId: "StopDaemon"

[Code]
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
    SuppressibleMsgBox(
      '{#AppName} is removed. Your settings, the journal of applied fixes (what "undo" restores' + #13#10 +
      'from) and the log are kept in:' + #13#10#13#10 +
      ExpandConstant('{localappdata}\{#AppName}') + #13#10#13#10 +
      'Delete that folder if you no longer want them.',
      mbInformation, MB_OK, IDOK);
end;
