; Inno Setup script for DLRS Desktop (UNTESTED: written on Linux, no Windows machine was available).
; Build the one-folder app on Windows first: `python installer\build.py`, then compile this script
; with Inno Setup 6 (`iscc installer\windows\dlrs-desktop.iss`). Sign the result with your
; organisation's code-signing certificate (signtool) before distributing it.

#define AppName "DLRS Desktop"
#define AppVersion "0.1.0"
#define SourceDir "..\..\dist\dlrs-desktop"

[Setup]
AppId={{6C1B3E0E-8F7A-4B55-9F0B-3D2E5A9C1D11}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=DLRS Desktop authors
DefaultDirName={autopf}\DLRS Desktop
DefaultGroupName=DLRS Desktop
OutputBaseFilename=dlrs-desktop-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog
SetupIconFile=..\..\resources\icons\dlrs-desktop.ico
LicenseFile=..\..\LICENSE

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\DLRS Desktop"; Filename: "{app}\dlrs-desktop.exe"
Name: "{autodesktop}\DLRS Desktop"; Filename: "{app}\dlrs-desktop.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
; What IT runs after installing: loads the model, verifies its hashes, predicts on the bundled sample.
Filename: "{app}\dlrs-desktop.exe"; Parameters: "--self-test"; Flags: runhidden waituntilterminated; StatusMsg: "Running the self-test..."
