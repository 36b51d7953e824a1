/* `sigharness sign --sign IDENTITY|- [--identifier ID] [--entitlements FILE] [--options runtime]
 *  [--timestamp | --timestamp=none] [--force] [--digest-algorithm=sha1,sha256] [--pki DIR]
 *  [--signing-time SECONDS] [--profile FILE] [-o OUT] FILE|BUNDLE`
 *
 * Signs a Mach-O (thin or fat) like codesign, with the test PKI (mutators/signer.h); a bundle
 * directory or packed bundle is signed by sign_bundle_cmd.h (that bundle only, inside out).
 * IDENTITY is a test identity's full CN or file base (devid-team1, dev-team2, ...) or "-" for
 * ad hoc.  The
 * identifier defaults to the file's base name; the signing time to SOURCE_DATE_EPOCH, else now;
 * Developer ID identities get a secure timestamp unless --timestamp=none (as codesign does).
 * The output is written atomically (a temporary file in the same directory, then rename): to
 * OUT, or over FILE.
 *
 * Exit codes (inspect.h): 0 signed; 1 refused (already signed without --force, no room for
 * LC_CODE_SIGNATURE, unsupported slice, bad entitlements, signing failure); 2 usage or unknown
 * identity; 3 FILE is not a readable Mach-O; 4 a file cannot be read or written. */
#ifndef SH_SIGN_CMD_H
#define SH_SIGN_CMD_H

/* argv holds the arguments after "sign". */
int sh_sign_command(int argc, char **argv);

#endif
