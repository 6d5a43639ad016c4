package sorcery

// WizardFactory opens a wizard for one mapping line of sorcery.conf. typeName is the object
// type ("endpoint"), data the Asterisk wizard data string after the wizard's name
// ("pjsip.conf,criteria=type=endpoint", "ps_endpoints", a base URL, …). [Options.Wizards]
// maps wizard names to factories for [Sorcery.Apply] and [Sorcery.ApplyConfig].
type WizardFactory func(typeName, data string) (Wizard, error)
