/**
 * How guessable a new wallet password is, by zxcvbn-ts (a maintained TypeScript zxcvbn: common
 * passwords, names, dictionary words, keyboard patterns, dates, l33t). A wallet file can be
 * attacked offline at scrypt's cost, so a password from a cracker's first guesses is a real risk;
 * a hand-written length rule would pass "Password123!". The dictionaries (several MB) load only
 * when a password is checked. Nothing here returns or keeps the password itself.
 */

export interface PasswordStrength {
  /** 0 (guessed at once) .. 4 (very hard to guess); below 3 deserves a warning. */
  score: 0 | 1 | 2 | 3 | 4;
  /** log10 of the estimated guesses an attacker needs. */
  guessesLog10: number;
  warning: string | null;
  suggestions: string[];
}

export const WEAK_BELOW_SCORE = 3;

type Checker = (password: string, userInputs: string[]) => PasswordStrength;
let checker: Promise<Checker> | undefined;

async function load(): Promise<Checker> {
  const [{ ZxcvbnFactory }, common, en] = await Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
  ]);
  const zxcvbn = new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  });
  return (password, userInputs) => {
    const r = zxcvbn.check(password, userInputs);
    return {
      score: r.score,
      guessesLog10: r.guessesLog10,
      warning: r.feedback.warning,
      suggestions: [...r.feedback.suggestions],
    };
  };
}

/**
 * `userInputs`: words an attacker would try first for this user (the wallet file's name, the
 * provider's host), which make a password built from them weaker.
 */
export async function passwordStrength(
  password: string,
  userInputs: string[] = [],
): Promise<PasswordStrength> {
  checker ??= load();
  return (await checker)(password, userInputs);
}
