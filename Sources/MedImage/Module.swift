// Module MedImage.
