/**
 * The certificate and key HTTPS and the embedded broker's MQTT over TLS serve with, checked before
 * anything starts: an operator who set one of them meant TLS, and must not get device secrets in
 * clear text on the wire because the other is missing or cannot be read.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { Errors } from '../shared/error-catalog.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Both files or neither; read and paired as TLS will use them (FH_ERR_CONFIG_INVALID naming the setting otherwise). */
export function checkTlsFiles(config: { TLS_CERT_FILE?: string | undefined; TLS_KEY_FILE?: string | undefined }): TlsFiles | undefined {
  const certFile = config.TLS_CERT_FILE || undefined;
  const keyFile = config.TLS_KEY_FILE || undefined;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const missing = certFile === undefined ? 'FIELDHOOK_TLS_CERT_FILE' : 'FIELDHOOK_TLS_KEY_FILE';
    throw Errors.configInvalid(`Invalid configuration:\n  ${missing}: TLS needs both a certificate and its key; only the other is set`, { problems: [`${missing} is not set`] });
  }
  const read = (variable: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw Errors.configInvalid(`Invalid configuration:\n  ${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { problems: [variable] });
    }
  };
  const cert = read('FIELDHOOK_TLS_CERT_FILE', certFile);
  const key = read('FIELDHOOK_TLS_KEY_FILE', keyFile);
  try {
    // What the servers will do with them: PEM that parses, and a key that is the certificate's.
    createSecureContext({ cert, key });
  } catch (err) {
    throw Errors.configInvalid(`Invalid configuration:\n  FIELDHOOK_TLS_CERT_FILE, FIELDHOOK_TLS_KEY_FILE: ${(err as Error).message}`, { problems: ['FIELDHOOK_TLS_CERT_FILE', 'FIELDHOOK_TLS_KEY_FILE'] });
  }
  return { certFile, keyFile };
}
