export { type AccountAddress, parseLogin, stacieUsername } from './address.js';
export {
  type ChangePasswordOptions,
  changePassword,
  type ResetPasswordOptions,
  replaceCredentials,
  resetPassword,
} from './change-password.js';
export { type CreateAccountOptions, createAccount, DEFAULT_FOLDERS } from './create-account.js';
export { directDerive, type StacieDeriver } from './derive.js';
export { checkPassword, type LoginOptions, type Session, verifyLogin } from './login.js';
export { MIN_PASSWORD_LENGTH } from './password.js';
export { MAIL_REALM, mailRealmKey, newMailRealm } from './realm.js';
export { checkEncryptedUserKey, openUserKey, rewrapUserKey } from './user-key.js';
